import type { FaultInit, FaultKind, FaultView, ServiceName } from './types.js';

interface Fault {
  readonly id: number;
  readonly kind: FaultKind;
  readonly action: string | null;
  readonly service: ServiceName | null;
  remaining: number | 'always';
  readonly latencyMs: number;
}

/** What the faults planned for one call amount to. */
export interface FaultDecision {
  /** Added before anything else happens; the sum of every matching `latency` fault. */
  latencyMs: number;
  /** The first matching fault of another kind, if any. */
  kind: Exclude<FaultKind, 'latency'> | null;
  /** The fault to name in the call log. */
  logged: FaultKind | null;
}

function view(fault: Fault): FaultView {
  return { ...fault };
}

/** Faults waiting for the calls they match; each matching call uses one up. */
export class FaultPlan {
  private faults: Fault[] = [];
  private nextId = 1;

  inject({ kind, action, service, count = 1, latencyMs = 0 }: FaultInit): FaultView {
    const fault: Fault = {
      id: this.nextId++,
      kind,
      action: action ?? null,
      service: service ?? null,
      remaining: count,
      latencyMs: kind === 'latency' ? latencyMs : 0,
    };
    if (fault.remaining !== 0) this.faults.push(fault);
    return view(fault);
  }

  list(): FaultView[] {
    return this.faults.map(view);
  }

  clear(): void {
    this.faults = [];
  }

  /** Takes the faults that apply to one authenticated call of `action` on `service`. */
  take(service: ServiceName, action: string): FaultDecision {
    const decision: FaultDecision = { latencyMs: 0, kind: null, logged: null };
    for (const fault of this.faults) {
      if (fault.service !== null && fault.service !== service) continue;
      if (fault.action !== null && fault.action !== action) continue;
      if (fault.kind === 'latency') {
        decision.latencyMs += fault.latencyMs;
        decision.logged ??= 'latency';
      } else if (decision.kind === null) {
        decision.kind = fault.kind;
        decision.logged = fault.kind;
      } else {
        continue;
      }
      if (fault.remaining !== 'always') fault.remaining -= 1;
    }
    this.faults = this.faults.filter((fault) => fault.remaining !== 0);
    return decision;
  }
}
