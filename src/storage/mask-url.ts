/** The URL with any password replaced by `[redacted]`, safe to print and log (storage's face of it). */
export { maskUrl } from '../shared/redaction.js';
