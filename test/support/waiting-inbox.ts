/**
 * A queue a test awaits: a socket handler `push`es what arrives, the test `next()`s it with a
 * deadline. No polling and no fixed sleeps: `next` wakes on the push.
 */
export class WaitingInbox<T> {
  private items: T[] = [];
  private wake: (() => void) | null = null;

  /** Items waiting. */
  get length(): number {
    return this.items.length;
  }

  /** Adds an item and wakes a waiting `next`. */
  push(item: T): void {
    this.items.push(item);
    const w = this.wake;
    this.wake = null;
    if (w) w();
  }

  /** Drops every waiting item. */
  clear(): void {
    this.items = [];
  }

  /** The oldest item, waiting up to `ms`; throws `${who}: no datagram within the deadline`. */
  async next(ms: number, who: string): Promise<T> {
    const deadline = Date.now() + ms;
    while (this.items.length === 0) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${who}: no datagram within the deadline`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          this.wake = null;
          resolve();
        }, left);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    return this.items.shift()!;
  }
}
