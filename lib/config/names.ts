/** Lower-case DNS-label style name: defined with the other primitives (the release policy names environments too). */
export { NameSchema } from "../core/primitives.ts";
