/** The clock that stamps stored records; injected so tests can fix time. */
export type Clock = () => Date;

/** The real clock, every store's default. */
export const systemClock: Clock = () => new Date();
