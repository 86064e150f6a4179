import { z } from "zod";

/** Lower-case DNS-label style name: used in resource names, stack names and state keys. */
export const NameSchema = z
  .string()
  .regex(/^[a-z][a-z0-9-]{0,30}[a-z0-9]$/, "must be 2-32 chars of a-z, 0-9 and '-', starting with a letter");
