import { IResolvable, IResolveContext, Token } from "cdktf";

/**
 * A value computed at synth time, like cdktf's `Lazy`, but without capturing a stack trace
 * when it is created: two per host made `Lazy` the largest cost of a 1000-node synth.
 */
export class LateValue implements IResolvable {
  /** Strings (a file's content) are the common case. */
  static string(produce: () => string): string {
    return Token.asString(new LateValue(produce));
  }

  static any(produce: () => unknown): IResolvable {
    return new LateValue(produce);
  }

  readonly creationStack: string[] = [];

  private constructor(private readonly produce: () => unknown) {}

  resolve(_context: IResolveContext): unknown {
    return this.produce();
  }

  toString(): string {
    return Token.asString(this);
  }
}
