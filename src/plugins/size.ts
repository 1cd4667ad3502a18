/**
 * Sizes in plugin options (`512kb`, `1mb` or a number of bytes). The SDK's
 * entry point for them; the one declaration lives in src/config/size.ts, so
 * plugins and route files (`mirror.bodyLimit`) read sizes alike.
 */
export { SIZE_PATTERN, parseSize } from '../config/size.js';
