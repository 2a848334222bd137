// The server's logger: JSON lines on stderr for machines (a file, a pipe, journald, a container's
// log driver), and readable, coloured lines when stderr is a terminal, drawn by pino-pretty in
// pino's transport thread. `log.format` forces either. Fastify's own "Server listening at" line is
// dropped: `serve` prints the one listening line (stdout), so it is not said twice.

import pino, { type Logger } from 'pino';
import type { Config } from './config/schema.js';

export type LogFormat = 'pretty' | 'json';

/** `auto` follows the stream the logs go to: a terminal gets pretty lines. */
export function chooseLogFormat(setting: Config['log']['format'], isTerminal: boolean): LogFormat {
  if (setting !== 'auto') return setting;
  return isTerminal ? 'pretty' : 'json';
}

/** Passed to fastify's `listen` as its listen text, so that the logger recognises and drops that line. */
export const FASTIFY_LISTEN_TEXT = 'cratekeeper: fastify listening (left out)';
export const fastifyListenText = () => FASTIFY_LISTEN_TEXT;

export function createServerLogger(settings: Config['log'], stderr: { isTTY?: boolean } = process.stderr): Logger {
  const options: pino.LoggerOptions = {
    level: settings.level,
    hooks: {
      logMethod(args, method) {
        if (args[0] === FASTIFY_LISTEN_TEXT) return;
        method.apply(this, args);
      },
    },
  };
  if (chooseLogFormat(settings.format, stderr.isTTY === true) === 'json') return pino(options, pino.destination(2));
  return pino(
    options,
    pino.transport({
      target: 'pino-pretty',
      options: { destination: 2, colorize: stderr.isTTY === true, translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname' },
    }),
  );
}
