import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    root: new URL("..", import.meta.url).pathname,
    include: ["test/**/*.test.ts"],
    testTimeout: 120_000,
    hookTimeout: 600_000,
    pool: "forks",
    // Two files at a time even on 2 cores: the end-to-end files mostly wait on the engine and the
    // emulator (each starts its own on free ports, in its own directories), and CI must fit in 90
    // minutes after a cold engine build.
    poolOptions: { forks: { minForks: 1, maxForks: 2 } },
    reporters: ["default"],
  },
});
