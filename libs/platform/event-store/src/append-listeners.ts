/**
 * The listeners of EventStore.onAppend, for every adapter: a registration is removed by the
 * function `add` returned (the same listener added twice is two registrations), and a listener
 * that throws never reaches the appender (its reader still polls).
 */
export class AppendListeners {
  private readonly listeners = new Set<() => void>();

  add(listener: () => void): () => void {
    const registered = () => listener();
    this.listeners.add(registered);
    return () => void this.listeners.delete(registered);
  }

  notify(): void {
    for (const listener of this.listeners) {
      try {
        listener();
      } catch {
        // A listener's failure must not reach the appender: its reader still polls.
      }
    }
  }
}
