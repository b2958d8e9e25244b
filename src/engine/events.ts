import type { Outcome } from './outcome.js';

/**
 * The steps of a rotation as a person watching `rotate now` sees them, in order. `recover` is
 * finishing or undoing what a crash interrupted; `mfa`, making the MFA session IAM wants.
 */
export type Step = 'recover' | 'identify' | 'assess' | 'defer' | 'mfa' | 'make-room' | 'create' | 'verify' | 'write' | 'hook' | 'retire';

/** Facts of a step, for a client to render as it likes. Key ids whole; never a secret. */
export type StepData = Readonly<Record<string, string | number | boolean | null>>;

/** One step of a profile's rotation, as it happens. */
export interface StepEvent {
  readonly type: 'step';
  readonly profile: string;
  readonly step: Step;
  /** Since the rotation (this profile's part of the check) began. */
  readonly elapsedMs: number;
  /** One sentence for a log or a terminal; key ids masked. */
  readonly text: string;
  readonly data: StepData;
}

/** The end of one profile's part: exactly one per profile per check or `rotate now`. */
export interface EndEvent {
  readonly type: 'end';
  readonly profile: string;
  readonly elapsedMs: number;
  readonly outcome: Outcome;
}

export type EngineEvent = StepEvent | EndEvent;
export type EventListener = (event: EngineEvent) => void;

/**
 * Fans events out to listeners that cannot hurt the sender: a listener that throws is dropped
 * from this delivery and reported once, and never stops a rotation. Listeners must not block; a
 * slow consumer (a socket client that does not read) buffers or drops on its own side.
 */
export class EventHub {
  private readonly listeners = new Set<EventListener>();

  constructor(private readonly onListenerError: (error: unknown) => void = () => {}) {}

  add(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(event: EngineEvent): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(event);
      } catch (error) {
        this.listeners.delete(listener);
        this.onListenerError(error);
      }
    }
  }

  get size(): number {
    return this.listeners.size;
  }
}
