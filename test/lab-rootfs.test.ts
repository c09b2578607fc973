/** The lab boots each Debian release's own suite, and says so when a release cannot be deployed here. */
import { DEBIAN_12_ZED, DEBIAN_13_EPOXY, UBUNTU_2404_CARACAL } from "../lib/core/releases";
import { baseRootfsPath, labSuite } from "../lab/rootfs";

describe("the lab's base root filesystem per release", () => {
  it("boots trixie for Epoxy and bookworm for Zed, each cached under its own name", () => {
    expect(labSuite(DEBIAN_13_EPOXY)).toBe("trixie");
    expect(labSuite(DEBIAN_12_ZED)).toBe("bookworm");
    expect(baseRootfsPath("trixie")).toMatch(/\/rootfs\/trixie-[0-9a-f]{12}$/);
    // Bookworm's cache key is the one it had before trixie was added: a warm cache stays warm.
    expect(baseRootfsPath("bookworm")).toMatch(/\/rootfs\/bookworm-268cbc7524c2$/);
  });

  it("refuses Ubuntu in one line: the lab has no Ubuntu archive", () => {
    expect(() => labSuite(UBUNTU_2404_CARACAL)).toThrow(
      /^release: got ubuntu-2404-caracal: the lab boots Debian hosts only \(bookworm, trixie\); this release can be synthesized, not deployed here$/,
    );
  });
});
