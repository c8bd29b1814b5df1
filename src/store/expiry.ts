// Expiry ahead of time: one timer for the next deadline of any entry (warning or expiry), armed
// only while someone listens to `expiring` or `expired`; each entry is reported once per kind.
import { DEFAULT_EXPIRY_WARNING_DAYS } from '../loader/metadata.js';
import type { StoreEntry } from './entry.js';

/** What the `expiring` and `expired` events carry. */
export interface ExpiryEvent {
  entry: StoreEntry;
  notAfter: Date;
  /** Whole days left (negative once expired). */
  daysLeft: number;
}

const DAY = 86_400_000;
const MAX_TIMER = 2 ** 31 - 1;

/** What the watch needs of its store. */
export interface Watched {
  listening(): boolean;
  entries(): Iterable<StoreEntry>;
  has(id: string): boolean;
  warningDays(): number | undefined;
  emit(kind: 'expiring' | 'expired', event: ExpiryEvent): void;
}

export class ExpiryWatch {
  #timer: NodeJS.Timeout | undefined;
  readonly #reported = new Map<string, 'expiring' | 'expired'>();
  readonly #store: Watched;

  constructor(store: Watched) {
    this.#store = store;
  }

  /** Arms the timer for the next deadline (after a change, or a listener added or removed). */
  schedule(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (!this.#store.listening()) return;
    const warn = (this.#store.warningDays() ?? DEFAULT_EXPIRY_WARNING_DAYS) * DAY;
    const now = Date.now();
    let next = Infinity;
    for (const entry of this.#store.entries()) {
      const end = entry.certificate.notAfter.getTime();
      const seen = this.#reported.get(entry.id);
      const due = seen === 'expired' ? Infinity : seen === 'expiring' ? end + 1 : Math.min(end - warn, end + 1);
      next = Math.min(next, due);
    }
    if (next === Infinity) return;
    this.#timer = setTimeout(() => this.#check(), Math.min(Math.max(0, next - now), MAX_TIMER));
    this.#timer.unref?.();
  }

  #check(): void {
    this.#timer = undefined;
    const warn = (this.#store.warningDays() ?? DEFAULT_EXPIRY_WARNING_DAYS) * DAY;
    const now = Date.now();
    for (const id of this.#reported.keys()) if (!this.#store.has(id)) this.#reported.delete(id);
    for (const entry of this.#store.entries()) {
      const notAfter = entry.certificate.notAfter;
      const end = notAfter.getTime();
      const seen = this.#reported.get(entry.id);
      const event: ExpiryEvent = { entry, notAfter, daysLeft: Math.floor((end - now) / DAY) };
      if (now > end && seen !== 'expired') {
        this.#reported.set(entry.id, 'expired');
        this.#store.emit('expired', event);
      } else if (now <= end && now >= end - warn && seen === undefined) {
        this.#reported.set(entry.id, 'expiring');
        this.#store.emit('expiring', event);
      }
    }
    this.schedule();
  }
}
