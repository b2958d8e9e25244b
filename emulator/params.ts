import { validationError } from './aws-errors.js';

/**
 * Reads an action's parameters against IAM's and STS's published constraints, gathering every
 * violation into one ValidationError worded like AWS's ("1 validation error detected: …").
 */
export class ParamReader {
  private readonly problems: string[] = [];

  constructor(private readonly params: ReadonlyMap<string, string>) {}

  private fail(value: string | undefined, member: string, constraint: string): undefined {
    const shown = value === undefined ? 'null' : `'${value}'`;
    this.problems.push(`Value ${shown} at '${member}' failed to satisfy constraint: Member must ${constraint}`);
    return undefined;
  }

  /** A string member; `pattern` is shown as AWS shows it, so give its source. */
  string(
    name: string,
    { required = false, min = 1, max = Infinity, pattern }: { required?: boolean; min?: number; max?: number; pattern?: RegExp } = {},
  ): string | undefined {
    const member = name.charAt(0).toLowerCase() + name.slice(1);
    const value = this.params.get(name);
    if (value === undefined) return required ? this.fail(value, member, 'not be null') : undefined;
    if (value.length < min) return this.fail(value, member, `have length greater than or equal to ${min}`);
    if (value.length > max) return this.fail(value, member, `have length less than or equal to ${max}`);
    if (pattern && !new RegExp(`^(?:${pattern.source})$`, 'u').test(value)) {
      return this.fail(value, member, `satisfy regular expression pattern: ${pattern.source}`);
    }
    return value;
  }

  enumeration<T extends string>(name: string, allowed: readonly T[], { required = false } = {}): T | undefined {
    const member = name.charAt(0).toLowerCase() + name.slice(1);
    const value = this.params.get(name);
    if (value === undefined) return required ? this.fail(value, member, 'not be null') : undefined;
    if (!(allowed as readonly string[]).includes(value)) {
      return this.fail(value, member, `satisfy enum value set: [${allowed.join(', ')}]`);
    }
    return value as T;
  }

  integer(name: string, { min, max }: { min: number; max: number }): number | undefined {
    const member = name.charAt(0).toLowerCase() + name.slice(1);
    const value = this.params.get(name);
    if (value === undefined) return undefined;
    if (!/^-?\d{1,15}$/.test(value)) return this.fail(value, member, 'be a whole number');
    const number = Number(value);
    if (number < min) return this.fail(value, member, `have value greater than or equal to ${min}`);
    if (number > max) return this.fail(value, member, `have value less than or equal to ${max}`);
    return number;
  }

  /** Throws the gathered ValidationError, if any; call after reading every parameter. */
  check(): void {
    if (this.problems.length > 0) throw validationError(this.problems);
  }
}

export const USER_NAME = /[\w+=,.@-]+/;
export const ACCESS_KEY_ID = /[\w]+/;
