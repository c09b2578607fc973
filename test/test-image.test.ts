/**
 * The lab's test image (lab/test-image.ts): the console-line formats and their parser (checked
 * against the lines the guest's scripts print), the recipe hash, and the pure parts of the
 * build (module order, .modinfo and ELF reading, cpio, MBR). Nothing here builds or boots it:
 * `npx ts-node lab/test-image.ts` builds it, lab/test-image/qemu-smoke.sh boots it.
 */
import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { CACHE_DIR } from "../lab/config";
import {
  CONSOLE_LINES,
  ConsoleEvent,
  CpioTree,
  elfDynamicInfo,
  GLANCE,
  glanceImageCreateArgs,
  GUEST_SOURCE_DIR,
  httpAnswer,
  KERNEL_CMDLINE,
  kernelPackageOf,
  mbr,
  moduleDepends,
  moduleLoadOrder,
  parseConsoleLine,
  parseConsoleLog,
  pingUserData,
  recipeHash,
  summarizeConsole,
  SYSLINUX_CFG,
  TEST_IMAGE_NAME,
  testImagePath,
  testImageRecipe,
} from "../lab/test-image";

const UUID = "6f1a3c7e-0a0a-4a0a-8a0a-00000000000a";

/** A console as the guest writes it under qemu (SYSLINUX, kernel messages, CRLF, our lines). */
const CONSOLE = [
  "SYSLINUX 6.04 20210613 Copyright (C) 1994-2015 H. Peter Anvin et al",
  "Loading /vmlinuz... ok",
  "[    0.000000] Linux version 6.1.0-57-cloud-amd64 (debian-kernel@lists.debian.org)",
  "[    2.529744] Run /init as init process",
  "TESTVM boot kernel=6.1.0-57-cloud-amd64",
  "TESTVM dhcp ip=192.168.251.10/24 router=192.168.251.1 mtu=1450",
  `TESTVM metadata uuid=${UUID}`,
  "TESTVM sshd port=22 keys=1",
  "TESTVM httpd port=80",
  "TESTVM ready",
  "TESTVM ping 192.168.251.11 ok",
  "TESTVM ping 192.168.251.99 fail",
  "TESTVM ping 192.168.251.11 fail",
  "TESTVM ping 192.168.251.99 fail",
  "TESTVM ping 192.168.251.11 ok",
]
  .map((l) => `${l}\r\n`)
  .join("");

describe("test image console lines", () => {
  it("parses each format", () => {
    const cases: [string, ConsoleEvent][] = [
      ["TESTVM boot kernel=6.1.0-57-cloud-amd64", { kind: "boot", kernel: "6.1.0-57-cloud-amd64" }],
      [
        "TESTVM dhcp ip=10.0.0.5/24 router=10.0.0.1 mtu=1450",
        { kind: "dhcp", ip: "10.0.0.5", prefix: 24, router: "10.0.0.1", mtu: 1450 },
      ],
      ["TESTVM dhcp ip=10.0.0.5/24 router=none mtu=none", { kind: "dhcp", ip: "10.0.0.5", prefix: 24 }],
      ["TESTVM dhcp failed", { kind: "dhcp-failed" }],
      [`TESTVM metadata uuid=${UUID.toUpperCase()}`, { kind: "metadata", uuid: UUID }],
      ["TESTVM metadata failed", { kind: "metadata-failed" }],
      ["TESTVM sshd port=22 keys=0", { kind: "sshd", port: 22, keys: 0 }],
      ["TESTVM sshd failed", { kind: "sshd-failed" }],
      ["TESTVM httpd port=80", { kind: "httpd", port: 80 }],
      ["TESTVM httpd failed", { kind: "httpd-failed" }],
      ["TESTVM ready", { kind: "ready" }],
      ["TESTVM ping 10.0.0.7 ok", { kind: "ping", target: "10.0.0.7", ok: true }],
      ["TESTVM ping 10.0.0.7 fail", { kind: "ping", target: "10.0.0.7", ok: false }],
      ["TESTVM disk vdb size=1073741824", { kind: "disk", name: "vdb", bytes: 1073741824 }],
      ["TESTVM disk vdb removed", { kind: "disk-removed", name: "vdb" }],
      ["TESTVM poweroff", { kind: "poweroff" }],
    ];
    for (const [line, event] of cases) expect(parseConsoleLine(line)).toEqual(event);
    // One case per format.
    expect(new Set(cases.map(([, e]) => e.kind)).size).toBe(Object.keys(CONSOLE_LINES).length);
  });

  it("reads a line behind other console output and a CR; ignores everything else", () => {
    expect(parseConsoleLine("[   12.3] random: crng init doneTESTVM ready\r")).toEqual({ kind: "ready" });
    expect(parseConsoleLine("udhcpc: lease obtained TESTVM ping 10.0.0.7 ok\r")).toEqual({
      kind: "ping",
      target: "10.0.0.7",
      ok: true,
    });
    for (const line of [
      "",
      "Loading /vmlinuz... ok",
      "TESTVM",
      "TESTVM readyx",
      "TESTVM dhcp ip=10.0.0.5 router=10.0.0.1 mtu=1450",
      "TESTVM metadata uuid=",
      "TESTVM ping 10.0.0.7 maybe",
      "TESTVM disk vdb size=",
      "TESTVM disk vdb size=1G",
      "TESTVM disk sda size=1073741824",
      "TESTVM disk vdb gone",
      "testvm ready",
    ])
      expect(parseConsoleLine(line)).toBeUndefined();
  });

  it("summarizes a console log: lease, uuid, services, ping tallies", () => {
    expect(parseConsoleLog(CONSOLE)).toHaveLength(11);
    expect(summarizeConsole(CONSOLE)).toEqual({
      boots: 1,
      kernel: "6.1.0-57-cloud-amd64",
      dhcp: { ip: "192.168.251.10", prefix: 24, router: "192.168.251.1", mtu: 1450 },
      dhcpFailed: false,
      uuid: UUID,
      metadataFailed: false,
      sshd: { port: 22, keys: 1 },
      httpd: { port: 80 },
      ready: true,
      pings: {
        "192.168.251.11": { ok: 2, fail: 1, last: true },
        "192.168.251.99": { ok: 0, fail: 2, last: false },
      },
      disks: {},
      poweredOff: false,
    });
  });

  it("summarizes only the latest boot of a log that holds several", () => {
    const second = [
      "TESTVM boot kernel=6.1.0-57-cloud-amd64",
      "TESTVM dhcp failed",
      "TESTVM metadata failed",
    ];
    const s = summarizeConsole(`${CONSOLE}TESTVM poweroff\n${second.join("\n")}\n`);
    expect(s.boots).toBe(2);
    expect(s).toMatchObject({ dhcpFailed: true, metadataFailed: true, ready: false, poweredOff: false });
    expect(s.dhcp).toBeUndefined();
    expect(s.uuid).toBeUndefined();
    expect(s.pings).toEqual({});
    expect(summarizeConsole("").boots).toBe(0);
  });

  it("follows the disks: vda at the start, a volume hot-plugged, resized and removed", () => {
    const disks = (...lines: string[]) => summarizeConsole(`${CONSOLE}${lines.join("\n")}\n`).disks;
    const vda = "TESTVM disk vda size=1048576";
    expect(disks(vda)).toEqual({ vda: 1048576 });
    expect(disks(vda, "TESTVM disk vdb size=1073741824")).toEqual({ vda: 1048576, vdb: 1073741824 });
    expect(disks(vda, "TESTVM disk vdb size=1073741824", "TESTVM disk vdb size=2147483648")).toEqual({
      vda: 1048576,
      vdb: 2147483648,
    });
    expect(disks(vda, "TESTVM disk vdb size=1073741824", "TESTVM disk vdb removed")).toEqual({
      vda: 1048576,
    });
    // A reboot starts over: the disk watch reports every disk again.
    expect(disks(vda, "TESTVM disk vdb size=1073741824", "TESTVM boot kernel=x")).toEqual({});
  });

  it("parses every line the guest's scripts print, and every format is printed by one", () => {
    // Each TESTVM line of the scripts, with its shell expansions replaced by sample values.
    const samples: Record<string, string> = {
      "$(uname -r)": "6.1.0-57-cloud-amd64",
      $address: "10.0.0.5",
      $prefix: "24",
      "${gateway:-none}": "10.0.0.1",
      "${mtu:-none}": "none",
      $uuid: UUID,
      $keys: "1",
      $1: "10.0.0.7",
      $name: "vdb",
      $bytes: "1073741824",
    };
    const printed: string[] = [];
    for (const file of fs.readdirSync(GUEST_SOURCE_DIR).filter((f) => f.endsWith(".sh"))) {
      const text = fs.readFileSync(path.join(GUEST_SOURCE_DIR, file), "utf8");
      const bodies = [
        ...[...text.matchAll(/(?:^\s*|\|\| |&& )say (?:"([^"]*)"|(\S+))\s*$/gm)].map((m) => m[1] ?? m[2]),
        // Not the HTTP page (>/www/index.html): the console's lines only.
        ...[...text.matchAll(/^\s*echo "TESTVM ([^"]*)"\s*(?:>\/dev\/console)?$/gm)]
          .map((m) => m[1])
          .filter((b) => b !== "$*"),
      ];
      for (const body of bodies) {
        let line = `TESTVM ${body}`;
        for (const [shell, value] of Object.entries(samples)) line = line.split(shell).join(value);
        printed.push(line);
      }
    }
    expect(printed).toHaveLength(15);
    const unparsed = printed.filter((l) => parseConsoleLine(l) === undefined);
    expect(unparsed).toEqual([]);
    const kinds = new Set(printed.map((l) => parseConsoleLine(l)?.kind));
    expect([...kinds].sort()).toEqual([
      "boot",
      "dhcp",
      "dhcp-failed",
      "disk",
      "disk-removed",
      "httpd",
      "httpd-failed",
      "metadata",
      "metadata-failed",
      "ping",
      "poweroff",
      "ready",
      "sshd",
      "sshd-failed",
    ]);
  });

  it("knows what the guest's HTTP server answers (the line init.sh writes)", () => {
    expect(httpAnswer(UUID)).toBe(`TESTVM ${UUID}\n`);
    expect(httpAnswer(undefined)).toBe("TESTVM unknown\n");
    const init = fs.readFileSync(path.join(GUEST_SOURCE_DIR, "init.sh"), "utf8");
    expect(init).toContain('echo "TESTVM ${uuid:-unknown}" >/www/index.html');
  });

  it("writes user data that makes the guest ping, and refuses anything but IPv4 addresses", () => {
    expect(pingUserData(["10.0.0.7", "10.0.0.8"])).toBe("ping=10.0.0.7\nping=10.0.0.8\n");
    expect(() => pingUserData(["10.0.0.7; reboot"])).toThrow(/not an IPv4 address/);
    expect(() => pingUserData(["fe80::1"])).toThrow(/not an IPv4 address/);
  });
});

describe("test image recipe and cache path", () => {
  it("hashes the same recipe the same way, into the lab's cache", () => {
    const recipe = testImageRecipe();
    expect(recipeHash(testImageRecipe())).toBe(recipeHash(recipe));
    expect(recipeHash(recipe)).toMatch(/^[0-9a-f]{12}$/);
    expect(testImagePath(recipe)).toBe(
      path.join(CACHE_DIR, "test-image", `${TEST_IMAGE_NAME}-${recipeHash(recipe)}`),
    );
    expect(Object.keys(recipe.guestFiles).sort()).toEqual([
      "etc/acpi/PWRF/00000080",
      "etc/disk-watch.sh",
      "etc/udhcpc.sh",
      "init",
      "usr/bin/sudo",
    ]);
  });

  it("changes the hash when a guest file or any part of the recipe changes", () => {
    const recipe = testImageRecipe();
    const base = recipeHash(recipe);
    const edited = testImageRecipe((f) => {
      const text = fs.readFileSync(path.join(GUEST_SOURCE_DIR, f), "utf8");
      return f === "init.sh" ? `${text}# edited\n` : text;
    });
    expect(edited.guestFiles.init).not.toBe(recipe.guestFiles.init);
    expect(edited.guestFiles["etc/udhcpc.sh"]).toBe(recipe.guestFiles["etc/udhcpc.sh"]);
    const variants = [
      edited,
      { ...recipe, version: recipe.version + 1 },
      { ...recipe, packages: [...recipe.packages, "strace"] },
      { ...recipe, modules: [...recipe.modules, "virtio_rng"] },
      { ...recipe, kernelPackage: "linux-image-amd64" },
      { ...recipe, cmdline: `${recipe.cmdline} quiet` },
    ];
    const hashes = variants.map(recipeHash);
    expect(hashes).not.toContain(base);
    expect(new Set(hashes).size).toBe(variants.length);
  });
});

describe("test image build helpers", () => {
  it("orders modules after their dependencies, each once, and refuses a cycle", () => {
    const deps: Record<string, string[]> = {
      virtio_net: ["virtio_ring", "virtio", "net_failover"],
      net_failover: ["failover"],
      virtio: ["virtio_ring"],
      virtio_pci: ["virtio_ring", "virtio_pci_modern_dev", "virtio_pci_legacy_dev", "virtio"],
    };
    const order = moduleLoadOrder(["virtio_pci", "virtio_net"], (m) => deps[m] ?? []);
    expect(order).toEqual([
      "virtio_ring",
      "virtio_pci_modern_dev",
      "virtio_pci_legacy_dev",
      "virtio",
      "virtio_pci",
      "failover",
      "net_failover",
      "virtio_net",
    ]);
    expect(() => moduleLoadOrder(["a"], (m) => (m === "a" ? ["b"] : ["a"]))).toThrow(/cycle: a -> b -> a/);
  });

  it("reads a module's dependencies from its .modinfo strings", () => {
    const ko = (strings: string[]) => Buffer.from(`\x7fELF junk xdepends=nope\0${strings.join("\0")}\0tail`);
    expect(
      moduleDepends(ko(["license=GPL", "depends=virtio_ring,virtio,net_failover", "name=virtio_net"])),
    ).toEqual(["virtio_ring", "virtio", "net_failover"]);
    expect(moduleDepends(ko(["depends=", "name=virtio_ring"]))).toEqual([]);
    expect(moduleDepends(Buffer.from("no modinfo at all"))).toEqual([]);
  });

  it("reads an ELF file's interpreter and needed libraries (the machine's /bin/sh)", () => {
    const info = elfDynamicInfo(fs.readFileSync(fs.realpathSync("/bin/sh")));
    expect(info.interpreter).toBe("/lib64/ld-linux-x86-64.so.2");
    expect(info.needed).toContain("libc.so.6");
    expect(() => elfDynamicInfo(Buffer.from("#!/bin/sh\necho not an ELF file\n"))).toThrow(/not a 64-bit/);
  });

  it("writes a newc cpio archive: parents first, root-owned, aligned, with nodes and links", () => {
    const tree = new CpioTree()
      .file("etc/udhcpc.sh", "#!/bin/sh\n", 0o755)
      .symlink("bin/sh", "/bin/busybox")
      .device("dev/console", 0o600, 5, 1)
      .dir("root", 0o700);
    expect(tree.paths).toEqual(["etc", "etc/udhcpc.sh", "bin", "bin/sh", "dev", "dev/console", "root"]);
    const buf = tree.toBuffer();
    expect(buf.length % 4).toBe(0);
    const entries: { name: string; mode: number; uid: number; rdev: [number, number]; data: string }[] = [];
    for (let at = 0; ;) {
      expect(buf.toString("latin1", at, at + 6)).toBe("070701");
      const field = (i: number) => parseInt(buf.toString("latin1", at + 6 + i * 8, at + 14 + i * 8), 16);
      const nameSize = field(11);
      const name = buf.toString("latin1", at + 110, at + 110 + nameSize - 1);
      const dataAt = Math.ceil((at + 110 + nameSize) / 4) * 4;
      const data = buf.toString("latin1", dataAt, dataAt + field(6));
      entries.push({ name, mode: field(1), uid: field(2), rdev: [field(9), field(10)], data });
      at = Math.ceil((dataAt + field(6)) / 4) * 4;
      if (name === "TRAILER!!!") break;
    }
    const byName = Object.fromEntries(entries.map((e) => [e.name, e]));
    expect(entries.map((e) => e.name)).toEqual([...tree.paths, "TRAILER!!!"]);
    expect(entries.every((e) => e.uid === 0)).toBe(true);
    expect(byName["etc/udhcpc.sh"]).toMatchObject({ mode: 0o100755, data: "#!/bin/sh\n" });
    expect(byName["bin/sh"]).toMatchObject({ mode: 0o120777, data: "/bin/busybox" });
    expect(byName["dev/console"]).toMatchObject({ mode: 0o020600, rdev: [5, 1] });
    expect(byName["root"].mode).toBe(0o040700);
    expect(byName["etc"].mode).toBe(0o040755);
    expect(() => new CpioTree().file("../escape", "x")).toThrow(/bad path/);
  });

  it("writes an MBR with the boot code and one active FAT16 partition", () => {
    const s = mbr(Buffer.alloc(440, 0xaa), 2048, 34816);
    expect(s.length).toBe(512);
    expect(s.subarray(0, 440).every((b) => b === 0xaa)).toBe(true);
    expect(s[446]).toBe(0x80);
    expect(s[446 + 4]).toBe(0x0e);
    expect(s.readUInt32LE(446 + 8)).toBe(2048);
    expect(s.readUInt32LE(446 + 12)).toBe(34816);
    expect(s.subarray(462, 510).every((b) => b === 0)).toBe(true);
    expect([s[510], s[511]]).toEqual([0x55, 0xaa]);
    expect(mbr(Buffer.alloc(0), 2048, 4096, 0x01)[446 + 4]).toBe(0x01);
    expect(() => mbr(Buffer.alloc(446), 2048, 1)).toThrow(/at most 440/);
  });

  it("finds the kernel package behind the metapackage", () => {
    const out = [
      "linux-image-cloud-amd64",
      "  Depends: linux-image-6.1.0-57-cloud-amd64",
      "  Recommends: firmware-linux",
    ].join("\n");
    expect(kernelPackageOf(out, "linux-image-cloud-amd64")).toBe("linux-image-6.1.0-57-cloud-amd64");
    expect(() => kernelPackageOf("linux-image-cloud-amd64\n", "linux-image-cloud-amd64")).toThrow(
      /no linux-image/,
    );
  });

  it("boots the kernel with the serial port as the console (Nova's console log)", () => {
    const consoles = KERNEL_CMDLINE.split(" ").filter((a) => a.startsWith("console="));
    expect(consoles[consoles.length - 1]).toMatch(/^console=ttyS0\b/);
    expect(SYSLINUX_CFG).toContain(`APPEND ${KERNEL_CMDLINE}\n`);
    expect(SYSLINUX_CFG).toMatch(/^\s*KERNEL \/vmlinuz$/m);
    expect(SYSLINUX_CFG).toMatch(/^\s*INITRD \/initrd\.gz$/m);
  });

  it("registers with Glance as one raw image with a virtio NIC", () => {
    const args = glanceImageCreateArgs("testvm", "/tmp/disk.img");
    expect(args.slice(0, 5)).toEqual(["image", "create", "testvm", "--file", "/tmp/disk.img"]);
    const after = (flag: string) => args[args.indexOf(flag) + 1];
    expect(after("--disk-format")).toBe("raw");
    expect(after("--container-format")).toBe("bare");
    expect(after("--min-ram")).toBe(String(GLANCE.minRamMb));
    expect(args).toEqual(expect.arrayContaining(["--property", "hw_vif_model=virtio"]));
  });
});

describe("test image scripts", () => {
  it("pass shellcheck (POSIX sh for the guest's busybox, bash for the smoke test)", () => {
    const scripts = fs
      .readdirSync(GUEST_SOURCE_DIR)
      .filter((f) => f.endsWith(".sh"))
      .map((f) => path.join(GUEST_SOURCE_DIR, f));
    expect(scripts.map((f) => path.basename(f)).sort()).toEqual([
      "disk-watch.sh",
      "init.sh",
      "power-button.sh",
      "qemu-smoke.sh",
      "sudo.sh",
      "udhcpc.sh",
    ]);
    const result = spawnSync("shellcheck", ["--format=gcc", "--severity=style", ...scripts], {
      encoding: "utf8",
    });
    if (result.error)
      throw new Error(`shellcheck does not run (apt-get install shellcheck): ${result.error}`);
    expect(`${result.stdout}${result.stderr}`).toBe("");
    expect(result.status).toBe(0);
  });

  it("sudo.sh runs its command as the caller (root in the guest) and refuses options", () => {
    const sudo = (...args: string[]) =>
      spawnSync("sh", [path.join(GUEST_SOURCE_DIR, "sudo.sh"), ...args], { encoding: "utf8" });
    expect(sudo("sh", "-c", 'echo "$0 $1"', "a b", "c")).toMatchObject({ status: 0, stdout: "a b c\n" });
    expect(sudo("sh", "-c", "exit 3").status).toBe(3);
    expect(sudo("-u", "nobody", "id")).toMatchObject({
      status: 1,
      stdout: "",
      stderr: "sudo: options are not supported here: -u\n",
    });
    expect(sudo().status).toBe(1);
  });

  it("disk-watch.sh prints one line per disk that is there, appears, changes size or goes", async () => {
    // The machine's sh (dash) runs it as the guest's busybox sh would, on a directory that
    // stands in for /sys/block.
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "disk-watch-"));
    const setSize = (disk: string, sectors: number) => {
      fs.mkdirSync(path.join(root, disk), { recursive: true });
      // Renamed into place: the watch never reads a half-written file.
      fs.writeFileSync(path.join(root, "size.tmp"), `${sectors}\n`);
      fs.renameSync(path.join(root, "size.tmp"), path.join(root, disk, "size"));
    };
    setSize("vda", 2048);
    setSize("sda", 4096); // not virtio: never reported
    const child = spawn("sh", [path.join(GUEST_SOURCE_DIR, "disk-watch.sh")], {
      env: { PATH: process.env.PATH, DISK_WATCH_ROOT: root, DISK_WATCH_INTERVAL: "0.05" },
    });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    const lines = () => out.split("\n").filter(Boolean);
    const seen = async (line: string) => {
      for (const start = Date.now(); !lines().includes(line);) {
        if (Date.now() - start > 5000) throw new Error(`no "${line}" in: ${out}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    try {
      await seen("TESTVM disk vda size=1048576");
      setSize("vdb", 2097152);
      await seen("TESTVM disk vdb size=1073741824");
      setSize("vdb", 4194304);
      await seen("TESTVM disk vdb size=2147483648");
      fs.rmSync(path.join(root, "vdb"), { recursive: true });
      await seen("TESTVM disk vdb removed");
      // Some rounds with nothing new: nothing printed again.
      await new Promise((r) => setTimeout(r, 300));
      expect(lines().map((l) => parseConsoleLine(l))).toEqual([
        { kind: "disk", name: "vda", bytes: 1048576 },
        { kind: "disk", name: "vdb", bytes: 1073741824 },
        { kind: "disk", name: "vdb", bytes: 2147483648 },
        { kind: "disk-removed", name: "vdb" },
      ]);
    } finally {
      child.kill();
      fs.rmSync(root, { recursive: true });
    }
  });
});
