/**
 * The semantic diff of two configurations (`switchyard diff`, POST
 * /reload?dryRun=1, the dashboard's last change): models, comparison, what
 * moves, reviewer flags, and their rendering for people.
 */
export { buildModel, isModel, MODEL_FORMAT, type ConfigModel } from './model.js';
export { checkedModel, loadForDiff, loadModel, MAX_FILE_BYTES } from './load.js';
export { diffModels, summarize, type DiffReport, type DiffSummary } from './diff.js';
export { parseSamples, SampleFileError, type Sample } from './samples.js';
export { renderReport } from './render.js';
