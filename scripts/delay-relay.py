#!/usr/bin/env python3
"""A delaying TCP relay: latency for loopback hosts on a kernel without netem.

Every byte that crosses the relay is held for half the round-trip time in each
direction, so a connection through it sees RTT milliseconds added to every
exchange, in order, with no loss. Each listening port forwards to one target
port on 127.0.0.1 (or --target-host), so N loopback sshd hosts become N delayed
hosts. It counts, per connection, the bytes each way and the round trips: the
number of times the data turned from client->server to server->client (a
client that waits for an answer before sending again makes one turn per
exchange; a pipelining client makes fewer).

  scripts/delay-relay.py --rtt-ms 50 --map 30001:2201 --map 30002:2202 --stats FILE
  scripts/delay-relay.py --rtt-ms 50 --listen-base 30001 --target-base 2201 --count 100

On each closed connection it appends one JSON line to --stats (or stderr):
  {"listen": 30001, "target": 2201, "bytes_up": N, "bytes_down": N,
   "round_trips": N, "seconds": S}
It prints "ready" on stdout once every port listens, and runs until SIGTERM or
SIGINT. Used by bench/run and the fault tests (latency without netem).
"""

import argparse
import asyncio
import json
import signal
import sys
import time


class Counter:
    def __init__(self):
        self.bytes_up = 0
        self.bytes_down = 0
        self.round_trips = 0
        self.last = None  # "up" or "down": the direction of the last data

    def saw(self, direction, n):
        if direction == "up":
            self.bytes_up += n
        else:
            self.bytes_down += n
            if self.last == "up":
                self.round_trips += 1
        self.last = direction


async def pump(reader, writer, delay, counter, direction):
    """Copies reader to writer, each chunk released `delay` seconds after it
    arrived; keeps order. Half-closes the writer at EOF."""
    loop = asyncio.get_running_loop()
    queue = asyncio.Queue()

    async def release():
        while True:
            due, data = await queue.get()
            wait = due - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            if data is None:
                try:
                    if writer.can_write_eof():
                        writer.write_eof()
                except (OSError, RuntimeError):
                    pass
                return
            writer.write(data)
            try:
                await writer.drain()
            except (ConnectionError, OSError):
                return

    sender = asyncio.create_task(release())
    try:
        while True:
            data = await reader.read(65536)
            now = loop.time()
            if not data:
                break
            counter.saw(direction, len(data))
            queue.put_nowait((now + delay, data))
    except (ConnectionError, OSError):
        pass
    queue.put_nowait((loop.time() + delay, None))
    await sender


async def relay(client_reader, client_writer, listen, target_host, target, delay, stats):
    start = time.monotonic()
    counter = Counter()
    try:
        server_reader, server_writer = await asyncio.open_connection(target_host, target)
    except OSError:
        client_writer.close()
        return
    await asyncio.gather(
        pump(client_reader, server_writer, delay, counter, "up"),
        pump(server_reader, client_writer, delay, counter, "down"),
    )
    for w in (server_writer, client_writer):
        try:
            w.close()
        except OSError:
            pass
    record = {
        "listen": listen,
        "target": target,
        "bytes_up": counter.bytes_up,
        "bytes_down": counter.bytes_down,
        "round_trips": counter.round_trips,
        "seconds": round(time.monotonic() - start, 4),
    }
    line = json.dumps(record) + "\n"
    if stats:
        with open(stats, "a") as f:
            f.write(line)
    else:
        sys.stderr.write(line)


async def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--rtt-ms", type=float, default=0.0, help="round-trip time to add (ms)")
    p.add_argument("--map", action="append", default=[], metavar="LISTEN:TARGET")
    p.add_argument("--listen-base", type=int)
    p.add_argument("--target-base", type=int)
    p.add_argument("--count", type=int, default=0)
    p.add_argument("--listen-host", default="127.0.0.1")
    p.add_argument("--target-host", default="127.0.0.1")
    p.add_argument("--stats", help="file to append one JSON line per connection to")
    args = p.parse_args()

    pairs = []
    for m in args.map:
        try:
            listen, target = (int(x) for x in m.split(":"))
        except ValueError:
            p.error(f"--map {m!r}: expected LISTEN:TARGET ports")
        pairs.append((listen, target))
    if args.count:
        if args.listen_base is None or args.target_base is None:
            p.error("--count needs --listen-base and --target-base")
        pairs += [(args.listen_base + i, args.target_base + i) for i in range(args.count)]
    if not pairs:
        p.error("nothing to relay: give --map or --count")
    if args.rtt_ms < 0:
        p.error("--rtt-ms must be 0 or more")
    delay = args.rtt_ms / 2000.0

    servers = []
    for listen, target in pairs:

        def handler(r, w, listen=listen, target=target):
            return relay(r, w, listen, args.target_host, target, delay, args.stats)

        try:
            servers.append(await asyncio.start_server(handler, args.listen_host, listen))
        except OSError as e:
            print(f"delay-relay: cannot listen on {args.listen_host}:{listen}: {e}",
                  file=sys.stderr)
            return 2
    print("ready", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for s in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(s, stop.set)
    await stop.wait()
    for s in servers:
        s.close()
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
