// Auth patterns: how a login and password become a header value. Named patterns (`basic`, `bearer`,
// `token`), `custom_prefix:` shorthands, and templates with `<login>` / `<password>` placeholders
// (`token <password>`), after Bazel's auth_patterns. The .netrc keeps only the secrets; the pattern
// lives in our own auth file so that curl, git and Python can still read the .netrc.

export type AuthPattern = { kind: 'basic' } | { kind: 'template'; template: string; needsLogin: boolean; needsPassword: boolean };

export class AuthPatternError extends Error {
  readonly code = 'AUTH_PATTERN';
}

export interface Credentials {
  login: string | undefined;
  password: string | undefined;
}

const PLACEHOLDER = /<([^<>]*)>/g;

function template(text: string): AuthPattern {
  for (const m of text.matchAll(PLACEHOLDER)) {
    if (m[1] !== 'login' && m[1] !== 'password') {
      throw new AuthPatternError(`unknown placeholder \`<${m[1]}>\` in \`${text}\` (only <login> and <password> exist)`);
    }
  }
  const needsLogin = text.includes('<login>');
  const needsPassword = text.includes('<password>');
  if (!needsLogin && !needsPassword) {
    throw new AuthPatternError(
      `\`${text}\` is not a pattern: use basic, bearer, token, custom_prefix:<prefix>, or a template with <password> or <login> (e.g. "token <password>")`,
    );
  }
  if (/[\r\n]/.test(text)) throw new AuthPatternError('a pattern cannot contain a line break');
  return { kind: 'template', template: text, needsLogin, needsPassword };
}

/** Parses a pattern as written in the auth file; throws AuthPatternError. */
export function parseAuthPattern(text: string): AuthPattern {
  const trimmed = text.trim();
  switch (trimmed.toLowerCase()) {
    case 'basic':
      return { kind: 'basic' };
    case 'bearer':
      return template('Bearer <password>');
    case 'token':
    case 'raw':
      return template('<password>');
  }
  const custom = /^custom_prefix:(?:prefix=)?(.*)$/i.exec(trimmed);
  if (custom) {
    const prefix = custom[1]!.trim();
    if (prefix === '' || /[\s<>]/.test(prefix)) {
      throw new AuthPatternError(`\`${trimmed}\`: the prefix must be one word without spaces, e.g. custom_prefix:token`);
    }
    return template(`${prefix} <password>`);
  }
  return template(text);
}

/** Renders the header value; throws AuthPatternError when a needed part of the credentials is missing. */
export function renderAuthPattern(pattern: AuthPattern, credentials: Credentials, where: string): string {
  const { login, password } = credentials;
  let value: string;
  if (pattern.kind === 'basic') {
    if (login === undefined) throw new AuthPatternError(`${where}: basic authentication needs a login, and the credentials have none`);
    value = `Basic ${Buffer.from(`${login}:${password ?? ''}`, 'utf8').toString('base64')}`;
  } else {
    if (pattern.needsLogin && login === undefined)
      throw new AuthPatternError(`${where}: the pattern uses <login>, and the credentials have none`);
    if (pattern.needsPassword && password === undefined) {
      throw new AuthPatternError(`${where}: the pattern uses <password>, and the credentials have none`);
    }
    value = pattern.template.replace(PLACEHOLDER, (_m, name: string) => (name === 'login' ? login! : password!));
  }
  // A header value cannot carry line breaks or other control characters (header injection).
  if (/[\0-\x08\n-\x1f\x7f]/.test(value)) throw new AuthPatternError(`${where}: the credentials contain a control character`);
  return value;
}
