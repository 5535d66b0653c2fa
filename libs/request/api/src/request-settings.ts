import { isoDurationEnd } from '@custos/platform/domain';

/** The request context's settings, read from the environment (README, "Configuration"). */
export interface RequestSettings {
  /** CUSTOS_BREAK_GLASS_REVIEW_WINDOW (ISO 8601, default PT24H): how long a security approver has to review a break-glass use before it escalates. */
  breakGlassReviewWindow?: string;
}

/**
 * readRequestSettings: the request context's settings from `env`. A value that is no positive
 * ISO 8601 duration of at most ten years stops the start with a message naming the variable,
 * rather than every break-glass use failing later.
 */
export function readRequestSettings(env: NodeJS.ProcessEnv): RequestSettings {
  const window = env.CUSTOS_BREAK_GLASS_REVIEW_WINDOW?.trim();
  if (!window) return {};
  if (!('end' in isoDurationEnd(0, window))) {
    throw new Error(`CUSTOS_BREAK_GLASS_REVIEW_WINDOW must be a positive ISO 8601 duration (PT24H) of at most ten years, got ${window.slice(0, 80)}`);
  }
  return { breakGlassReviewWindow: window };
}
