import { ReadPacer } from './read-pacer';

const MINUTE = 60_000;

/** How long `promise` took to settle, in ms. */
async function timed(promise: Promise<void>): Promise<number> {
  const started = Date.now();
  await promise;
  return Date.now() - started;
}

describe('ReadPacer: when a reader of the store reads next', () => {
  it('idle: waits the poll interval, and a wake-up ends the wait at once', async () => {
    const pacer = new ReadPacer(MINUTE);
    const waiting = pacer.idle(0);
    setTimeout(() => pacer.wake(), 20);
    expect(await timed(waiting)).toBeLessThan(MINUTE / 2);
    pacer.stop();
  });

  it('busy: a wake-up during a read makes the next read follow at once (what arrived meanwhile is the next batch)', async () => {
    const pacer = new ReadPacer(MINUTE);
    pacer.reading();
    pacer.wake(); // while the read is in flight
    expect(await timed(pacer.idle(3))).toBeLessThan(MINUTE / 2);
    // A read with no wake-up since it began: back to the poll interval (ended here by stop).
    pacer.reading();
    const waiting = pacer.idle(3);
    setTimeout(() => pacer.stop(), 50);
    expect(await timed(waiting)).toBeGreaterThanOrEqual(40);
  });

  it('busy with a busy linger: the next read waits that long for its batch to fill, which wake-ups do not cut short; idle, it never waits', async () => {
    const pacer = new ReadPacer(MINUTE, 60);
    pacer.reading();
    pacer.wake(); // appended to while the read was in flight
    const lingering = pacer.idle(3);
    const noise = setInterval(() => pacer.wake(), 5);
    const waited = await timed(lingering);
    clearInterval(noise);
    expect(waited).toBeGreaterThanOrEqual(50);
    expect(waited).toBeLessThan(MINUTE / 2);
    // Idle (nothing appended during the read), then a lone append: read at once.
    pacer.reading();
    const idle = pacer.idle(3);
    setTimeout(() => pacer.wake(), 10);
    expect(await timed(idle)).toBeLessThan(MINUTE / 2);
    pacer.stop();
  });

  it('woken yet the read found nothing: looks again after 1, 2, 4, … ms, which further wake-ups do not cut short, then polls', async () => {
    const pacer = new ReadPacer(64);
    pacer.wake();
    const waits: number[] = [];
    for (let i = 0; i < 7; i++) {
      pacer.reading();
      const waiting = pacer.idle(0);
      // Wake-ups keep coming (a busy store) while the same open transaction keeps the reads empty.
      const noise = setInterval(() => pacer.wake(), 1);
      waits.push(await timed(waiting));
      clearInterval(noise);
      pacer.reading();
    }
    // 1, 2, 4, 8, 16, 32 ms (timers are coarse on a loaded machine: only the growth is asserted), then the 64 ms poll.
    expect(waits[4]).toBeGreaterThanOrEqual(12);
    expect(waits[5]).toBeGreaterThanOrEqual(25);
    pacer.stop();
  });

  it('stop ends the wait in progress and every later one', async () => {
    const pacer = new ReadPacer(MINUTE);
    const waiting = pacer.idle(0);
    pacer.stop();
    await waiting;
    expect(await timed(pacer.idle(0))).toBeLessThan(1_000);
  });
});
