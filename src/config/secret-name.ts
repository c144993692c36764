/** Environment variable names that say their value is a secret (kept here for config's importers). */
export { SECRET_NAME } from '../shared/redaction.js';
