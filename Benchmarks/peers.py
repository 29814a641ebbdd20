"""Python asyncio peers for `make bench`: the same workloads as the Swift side.

Prints one line per workload: its name, a tab, operations per second (median of runs).
Usage: python3 Benchmarks/peers.py ITEMS RUNS
"""
import asyncio
import statistics
import sys
import time


async def queue_workload(n, producers, consumers, maxsize=1024):
    q = asyncio.Queue(maxsize)
    per = n // producers

    async def produce():
        for i in range(per):
            await q.put(i)

    async def consume():
        while True:
            await q.get()
            q.task_done()

    cs = [asyncio.create_task(consume()) for _ in range(consumers)]
    start = time.perf_counter()
    await asyncio.gather(*(produce() for _ in range(producers)))
    await q.join()
    took = time.perf_counter() - start
    for c in cs:
        c.cancel()
    return per * producers / took


async def actor_workload(n):
    inbox = asyncio.Queue()
    done = asyncio.Event()
    count = 0

    async def run():
        nonlocal count
        while True:
            await inbox.get()
            count += 1
            if count == n:
                done.set()

    task = asyncio.create_task(run())
    start = time.perf_counter()
    for i in range(n):
        await inbox.put(i)
    await done.wait()
    took = time.perf_counter() - start
    task.cancel()
    return n / took


async def semaphore_workload(tasks, per_task, limit=3):
    sem = asyncio.Semaphore(limit)

    async def worker():
        for _ in range(per_task):
            async with sem:
                await asyncio.sleep(0)

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(tasks)))
    return tasks * per_task / (time.perf_counter() - start)


async def generator_workload(n):
    async def gen():
        for i in range(n):
            yield i

    start = time.perf_counter()
    count = 0
    async for _ in gen():
        count += 1
    return count / (time.perf_counter() - start)


def median(fn, runs):
    return statistics.median(asyncio.run(fn()) for _ in range(runs))


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    out = {
        "queue 1/1": median(lambda: queue_workload(n, 1, 1), runs),
        "queue 4/4": median(lambda: queue_workload(n, 4, 4), runs),
        "actor messages": median(lambda: actor_workload(n), runs),
        "semaphore waiting": median(lambda: semaphore_workload(4, n // 4), runs),
        "semaphore tasks": median(lambda: semaphore_workload(n // 10, 1), runs),
        "stream items": median(lambda: generator_workload(n), runs),
    }
    for name, rate in out.items():
        print(f"{name}\t{rate:.0f}")


if __name__ == "__main__":
    main()
