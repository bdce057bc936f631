/**
 * The runtime guard every optional provider capability is detected with: a provider has a
 * capability when it has each of its methods.
 *
 * @module
 */

/**
 * A type guard for capability `C`: true when the provider has every method in `methods`.
 * The names are checked against `C` by the compiler, so a guard cannot miss a method.
 */
export function capability<C>(
  ...methods: (keyof C & string)[]
): <P extends object>(provider: P) => provider is P & C {
  return <P extends object>(provider: P): provider is P & C => {
    const record = provider as Record<string, unknown>;
    return methods.every((name) => typeof record[name] === "function");
  };
}
