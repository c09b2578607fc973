/** Small network probes from the lab machine to addresses on the lab's bridges. */
import * as net from "net";
import { sleep } from "./exec";

/** True when a TCP connection to address:port opens within timeoutMs. */
export function tcpOpen(address: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: address, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
}

/** Polls until the port opens; false when the deadline passes or `giveUp` says so. */
export async function waitForPort(
  address: string,
  port: number,
  timeoutMs: number,
  giveUp: () => boolean = () => false,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await tcpOpen(address, port, 500)) return true;
    if (giveUp()) return false;
    await sleep(250);
  }
  return false;
}
