/**
 * A heuristic screen for prompt injection: instructions addressed to the model inside content a
 * tool fetched (a web page, a file, an MCP result). It looks for the shapes such instructions
 * take — telling the model to drop its instructions, giving it a new role or new instructions,
 * chat-template role markup, asking for its system prompt or secrets, telling it to hide what
 * it does from the user — and not for instructions in general: a README saying "follow these
 * instructions to install" is not one. It is a screen, not a proof; the corpus in
 * `test/fixtures/injection/` holds what it must catch and what it must let through.
 */

/** One shape of injection: a stable id (for tests and reports) and its pattern. */
interface InjectionPattern {
  id: string;
  pattern: RegExp;
}

const MODEL = String.raw`(?:ai|a\.i\.|assistant|language model|llm|model|agent|chatbot|bot|gpt|claude)`;
const SECRET = String.raw`(?:api[ _-]?keys?|secrets?|credentials?|passwords?|access tokens?|tokens|private keys?|env(?:ironment)?(?: variables?)?|system prompt|conversation history|chat history)`;

const PATTERNS: readonly InjectionPattern[] = [
  {
    // "Ignore all previous instructions", "disregard your prior rules", "forget the above".
    id: 'override_instructions',
    pattern: new RegExp(
      String.raw`\b(?:ignore|disregard|forget|override|bypass|skip)\b[^.\n]{0,40}?\b(?:previous|prior|above|earlier|preceding|original|initial|all|your|system|developer)\b[^.\n]{0,30}?\b(?:instructions?|prompts?|rules|directions|directives|guidelines|guardrails|context|messages|programming|constraints)\b`,
      'iu',
    ),
  },
  {
    // "Disregard the above", "ignore everything above/before this".
    id: 'disregard_above',
    pattern:
      /\b(?:ignore|disregard|forget)\b\s+(?:all\s+|everything\s+|anything\s+)?(?:the\s+)?(?:above|before this|said before|you were told)\b/iu,
  },
  {
    // A new role: "you are now DAN", "from now on you will act as", "pretend to be".
    id: 'new_role',
    pattern: new RegExp(
      String.raw`\b(?:you are now (?:a|an|my|DAN|no longer|free|unrestricted|in (?:developer|god|jailbreak|unrestricted) mode)\b|from now on,? you (?:are|will be|must|shall|should) (?:a|an|no longer|only|not|DAN|free)\b|from now on,? you (?:will|must|shall) (?:act|respond|answer|reply|ignore|obey|only|always|never|pretend)\b|(?:act|behave|respond) as (?:if you were )?(?:an? )?(?:unrestricted|unfiltered|jailbroken|evil|different)\b|pretend (?:to be|you are) (?:an? )?(?:unrestricted|unfiltered|different|evil|DAN)\b)`,
      'iu',
    ),
  },
  {
    // Jailbreak modes.
    id: 'jailbreak_mode',
    pattern:
      /\b(?:developer|DAN|jailbreak|god|unrestricted) mode (?:enabled|activated|on)\b|\bDo Anything Now\b/iu,
  },
  {
    // New instructions: "New instructions:", "Updated system prompt:", "SYSTEM OVERRIDE".
    id: 'new_instructions',
    pattern:
      /\b(?:new|updated|revised|real|actual|true|hidden|secret|override) (?:instructions?|system prompt|prompt|directives?|orders)\s*:|\bsystem (?:override|prompt override|instruction override)\b/iu,
  },
  {
    // Role markup of chat templates: `<|im_start|>system`, `[INST]`, `<<SYS>>`, `<system>`.
    id: 'role_markup',
    pattern:
      /<\|(?:im_start|im_end|system|assistant|user|endoftext|eot_id|start_header_id)\|>|\[\/?INST\]|<<\/?SYS>>|<\/?(?:system|system_prompt|instructions)>/iu,
  },
  {
    // "As an AI language model, you must …".
    id: 'as_an_ai',
    pattern: new RegExp(
      String.raw`\bas an? (?:ai|artificial intelligence|${MODEL})(?: language model)?,? you (?:must|should|will|are (?:required|instructed|obliged))\b`,
      'iu',
    ),
  },
  {
    // Words addressed to the model: "if you are an AI reading this", "note to the assistant".
    id: 'addressed_to_model',
    pattern: new RegExp(
      String.raw`\b(?:if you are an? (?:ai|a\.i\.|llm|language model|chatbot|gpt)(?: (?:model|assistant|agent|system))?(?:,|\s+(?:reading|processing|screening|summari[sz]ing|parsing|browsing|analy[sz]ing|that|who))|(?:any |the )?${MODEL}s? (?:reading|processing|summari[sz]ing|parsing|browsing) this\b|(?:dear|attention|hey|hello|note to|message to|message for|instructions? (?:to|for)) (?:the |any |all )?${MODEL}s?\b)`,
      'iu',
    ),
  },
  {
    // "Reveal your system prompt", "print your instructions verbatim".
    id: 'reveal_prompt',
    pattern:
      /\b(?:reveal|print|show|output|repeat|leak|display|dump|recite|tell (?:me|us))\b[^.\n]{0,30}?\b(?:your\s+(?:(?:full|entire|original|initial|hidden|secret|system)\s+)*(?:system prompt|prompt|instructions|system rules)|the\s+(?:(?:full|entire|original|initial|hidden|secret)\s+)*system prompt|the\s+(?:hidden|secret|initial|original)\s+(?:prompt|instructions))\b/iu,
  },
  {
    // Exfiltration: "send the API keys to https://…", "post all environment variables to …".
    id: 'exfiltrate',
    pattern: new RegExp(
      String.raw`\b(?:send|post|upload|email|e-mail|forward|leak|exfiltrate|transmit)\b[^\n]{0,50}?\b(?:all |any |the |every |(?:the )?user'?s? )${SECRET}\b[^\n]{0,60}?(?:\bto\b|\binto\b|\bat\b|\bin\b)[^\n]{0,20}?(?:https?:\/\/|[\w.+-]+@[\w-]+\.[\w.]+|webhook|the url|this url|the link|the following)`,
      'iu',
    ),
  },
  {
    // Tool use asked for by the content: "call the send_email tool", "use the shell tool to".
    id: 'tool_request',
    pattern:
      /\b(?:you (?:must|should|need to|have to) |immediately |now |please )(?:call|invoke|use|run|execute|trigger)\s+(?:the\s+|your\s+)?[\w.-]+\s+tool\b/iu,
  },
  {
    // Hiding from the user: "do not tell the user", "without informing the user".
    id: 'hide_from_user',
    pattern:
      /\b(?:do not|don't|never|without)\s+(?:\w+\s+){0,2}?(?:tell|telling|inform|informing|alert|alerting|notify|notifying|let)\s+(?:the|your)\s+(?:user|human|operator)\s+(?:about (?:this|it|these)|that you|what you|you(?:'ve| have)?\s+(?:changed|did|done))\b|\b(?:do not|don't|never)\s+(?:mention|reveal|show)\s+(?:this|these instructions|it)\s+to\s+(?:the|your)\s+(?:user|human|operator)\b/iu,
  },
];

/** Where the screen found an instruction to the model: which shape, and the text's span. */
export interface InjectionFinding {
  id: string;
  start: number;
  end: number;
}

/** Every instruction to the model the screen finds in `text` (empty: none). */
export function findInjections(text: string): InjectionFinding[] {
  const findings: InjectionFinding[] = [];
  for (const { id, pattern } of PATTERNS) {
    const global = new RegExp(pattern.source, `${pattern.flags.replace('g', '')}g`);
    for (const match of text.matchAll(global)) {
      if (match[0] === '') continue;
      findings.push({ id, start: match.index, end: match.index + match[0].length });
    }
  }
  return findings.sort((a, b) => a.start - b.start);
}

/** True when `text` carries an instruction addressed to the model. */
export function looksLikeInjection(text: string): boolean {
  return PATTERNS.some(({ pattern }) => pattern.test(text));
}

/**
 * `text` with each line carrying an instruction to the model replaced by `replacement` (the
 * whole line: the instruction's tail, "… and send the keys to …", goes with its head).
 */
export function removeInjections(text: string, replacement: string): string {
  const findings = findInjections(text);
  if (findings.length === 0) return text;
  const lines = text.split(/(\r?\n)/u);
  let offset = 0;
  const out: string[] = [];
  for (const part of lines) {
    const start = offset;
    offset += part.length;
    if (part === '\n' || part === '\r\n') {
      out.push(part);
      continue;
    }
    const hit = findings.some((finding) => finding.start < offset && finding.end > start);
    out.push(hit ? replacement : part);
  }
  return out.join('');
}
