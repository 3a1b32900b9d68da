/*
 * The default SMTP reply texts, for the policy's modules. They live in main/shared/replies.ts
 * because the settings schema (shared with the UI) fills them in as defaults; this file only
 * hands them on. Nothing here runs or fails.
 */
export { DEFAULT_REPLIES } from '../../shared/replies.js';
