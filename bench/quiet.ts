// Imported first: Powertools reads the level when the logger is built, at import time. The
// bench's own functions stay quiet; its workers are given INFO, where "Shard done" is logged.
process.env.POWERTOOLS_LOG_LEVEL = 'ERROR';
