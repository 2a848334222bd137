// HTML forms post `application/x-www-form-urlencoded`: parsed into a plain object of strings (the
// last value wins for a repeated field, except fields the route reads with `formList`).

import type { FastifyInstance } from 'fastify';

export type FormBody = Record<string, string | string[]>;

export function acceptFormBodies(app: FastifyInstance): void {
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 16 * 1024 }, (_request, body, done) => {
    const form: FormBody = {};
    for (const [key, value] of new URLSearchParams(body as string)) {
      const seen = form[key];
      form[key] = seen === undefined ? value : Array.isArray(seen) ? [...seen, value] : [seen, value];
    }
    done(null, form);
  });
}

/** One field's value ('' when absent; the last one when repeated). */
export function formField(form: unknown, name: string): string {
  const value = (form as FormBody | undefined)?.[name];
  return Array.isArray(value) ? (value[value.length - 1] ?? '') : (value ?? '');
}

/** Every value of a repeated field (checkboxes). */
export function formList(form: unknown, name: string): string[] {
  const value = (form as FormBody | undefined)?.[name];
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}
