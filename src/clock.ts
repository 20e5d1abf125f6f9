// The clock every shell is given instead of reading the time itself, so tests can pass a fixed one.

/** Where "now" comes from. The pure core never reads a clock; shells take one and pass times in as data. */
export interface Clock {
  now(): Date;
}

/** The host's wall clock. */
export const systemClock: Clock = { now: () => new Date() };
