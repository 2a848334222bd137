// What every large upload (a publish, a docs archive) goes through before and while its body is
// read: a slot from a concurrency limit (so memory stays a small multiple of the size limit
// however many uploads arrive together, and one user cannot take every slot), then a deadline for
// the whole body (a slow sender would otherwise hold its slot, and its buffer, for ever). Both are
// route hooks; the route decides who may upload before asking for a slot.

import type { FastifyRequest } from 'fastify';
import { Transform } from 'node:stream';
import { ConcurrencyLimit, type ConcurrencyLimitOptions } from '../lib/concurrency-limit.js';
import { principalOf } from './authentication.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Frees the upload slot this request holds (safe to call more than once). */
    releaseUploadSlot?: () => void;
    /** Stops the upload's deadline once the request is answered. */
    clearUploadDeadline?: () => void;
  }
}

export interface UploadAdmissionOptions {
  /** Uploads at once per process, and per user; more wait up to `queueSeconds`, then 503. */
  maxInFlight: number;
  maxInFlightPerUser: number;
  queueSeconds: number;
  /** The whole body must arrive within this, else 408. */
  deadlineSeconds: number;
  /** The setting that sets the deadline, named in the 408's message. */
  deadlineSetting: string;
  /** What the uploads are, for refusals ("publishes"). */
  what: ConcurrencyLimitOptions['what'];
}

/** Hooks to spread into a route's options: `onRequest` gets a slot (after `admit`), `preParsing` starts the deadline. */
export function uploadAdmission(options: UploadAdmissionOptions, admit: (request: FastifyRequest) => void | Promise<void>) {
  const slots = new ConcurrencyLimit({
    total: options.maxInFlight,
    perKey: options.maxInFlightPerUser,
    // Waiting costs a socket, not memory (the body is read once a slot is free); one user may
    // queue a quarter of the waiting room, e.g. a CI matrix uploading several crates at once.
    maxWaiting: options.maxInFlight * 16,
    maxWaitingPerKey: options.maxInFlight * 4,
    maxWaitMs: options.queueSeconds * 1000,
    what: options.what,
  });
  const release = async (request: FastifyRequest) => {
    request.clearUploadDeadline?.();
    request.releaseUploadSlot?.();
  };
  return {
    onRequest: async (request: FastifyRequest) => {
      await admit(request);
      request.releaseUploadSlot = await slots.acquire(`user:${principalOf(request).userId}`);
    },
    preParsing: uploadDeadline(options.deadlineSeconds, options.deadlineSetting),
    onResponse: release,
    onRequestAbort: release,
  };
}

/** Ends the upload with 408 when it has not fully arrived within `seconds` (a slow sender holds a slot). */
function uploadDeadline(seconds: number, setting: string) {
  return async (request: FastifyRequest, _reply: unknown, payload: NodeJS.ReadableStream) => {
    // fastify checks the body's length against Content-Length with this count.
    const counted = new Transform({
      transform(chunk: Buffer, _encoding, next) {
        counted.receivedEncodedLength += chunk.length;
        next(null, chunk);
      },
    }) as Transform & { receivedEncodedLength: number };
    counted.receivedEncodedLength = 0;
    const timer = setTimeout(() => {
      const error = Object.assign(new Error(`the upload did not arrive within ${seconds} s (${setting})`), { statusCode: 408 });
      counted.destroy(error);
    }, seconds * 1000);
    request.clearUploadDeadline = () => clearTimeout(timer);
    counted.on('close', request.clearUploadDeadline);
    // The parser listens while it reads; an upload refused before that must not crash the process.
    counted.on('error', () => undefined);
    payload.on('error', (error: Error) => counted.destroy(error));
    return payload.pipe(counted);
  };
}
