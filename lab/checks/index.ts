/** Every check `lab verify` runs, in order. Add new check files here. */
import { baseChecks } from "./base";
import { Check } from "./types";

export const allChecks: readonly Check[] = [...baseChecks];
