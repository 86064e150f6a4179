/** envctl commands for pipelines and reviewers (plan summaries, drift, previews, cost). */
import type { Command } from "commander";
import type { Project } from "../config/load.ts";

export interface ReviewDeps {
  readonly load: () => Promise<Project>;
  readonly root: () => string;
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  readonly env: NodeJS.ProcessEnv;
  readonly setExit: (code: number) => void;
}

export function registerReviewCommands(_program: Command, _deps: ReviewDeps): void {
  // filled in by the pipelines issue
}
