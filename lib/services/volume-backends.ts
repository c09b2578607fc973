import { IniValue } from "../core/ini-file";
import { RBD_CLIENT, VolumeBackend } from "../hosts/volume-backends";

/** The backends as a host carries them (the host layer owns them); what follows is cinder.conf's. */
export * from "../hosts/volume-backends";

/** What an RBD backend needs of the cluster's Ceph: the libvirt secret that holds client.cinder's key. */
export interface RbdContext {
  readonly libvirtSecretUuid: string;
}

/** A backend's section in cinder.conf (an RBD backend needs `rbd`). */
export function volumeBackendSection(backend: VolumeBackend, rbd?: RbdContext): Record<string, IniValue> {
  if (backend.driver === "rbd") {
    if (!rbd)
      throw new Error(
        `volume backend ${backend.name}: driver rbd: got no Ceph cluster: expected one (the inventory's ceph section)`,
      );
    return {
      volume_backend_name: backend.name,
      volume_driver: "cinder.volume.drivers.rbd.RBDDriver",
      rbd_pool: backend.pool,
      rbd_ceph_conf: "/etc/ceph/ceph.conf",
      rbd_user: RBD_CLIENT,
      // Handed to Nova with each attachment: libvirt's secret with the same key on every compute host.
      rbd_secret_uuid: rbd.libvirtSecretUuid,
      rbd_flatten_volume_from_snapshot: false,
      rbd_max_clone_depth: 5,
      rbd_store_chunk_size: 4,
      rados_connect_timeout: 30,
      report_discard_supported: true,
    };
  }
  return {
    volume_backend_name: backend.name,
    volume_driver: "cinder.volume.drivers.lvm.LVMVolumeDriver",
    volume_group: backend.volumeGroup,
    target_protocol: "iscsi",
    target_helper: backend.targetHelper,
  };
}

/** How a backend reads in a comment or a message: `lvm-1 (LVM volume group cinder-volumes, iSCSI through tgtadm)`. */
export function describeVolumeBackend(backend: VolumeBackend): string {
  if (backend.driver === "rbd")
    return `${backend.name} (Ceph RBD pool ${backend.pool}, client.${RBD_CLIENT})`;
  return `${backend.name} (LVM volume group ${backend.volumeGroup}, iSCSI through ${backend.targetHelper})`;
}
