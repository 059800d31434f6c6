import type { RequestHandler } from 'express';
import { newId } from '../lib/ids.js';

const SAFE_ID = /^[A-Za-z0-9._:-]{1,64}$/;

/** Every request gets an id (the caller's X-Request-Id when it is safe to echo), returned and logged. */
export const requestId: RequestHandler = (req, res, next) => {
  const incoming = req.get('x-request-id');
  const id = incoming && SAFE_ID.test(incoming) ? incoming : newId('req');
  res.locals.requestId = id;
  res.setHeader('X-Request-Id', id);
  next();
};
