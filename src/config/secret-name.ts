/** Environment variable names that say their value is a secret (`OPENAI_API_KEY`, `DB_PASSWORD`, …). */
export const SECRET_NAME = /KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|AUTH/i;
