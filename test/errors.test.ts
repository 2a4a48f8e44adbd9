import * as errors from '../activities/errors';
import { toFailure } from '../activities';
import { PERMANENT_FAILURES } from '../workflows/input';

test('every permanent error type is listed as non-retryable for the workflows', () => {
  const permanent = (Object.values(errors) as unknown[])
    .filter((v): v is { name: string; prototype: unknown } => typeof v === 'function' && v.prototype instanceof errors.PermanentError)
    .map((c) => c.name)
    .sort();
  expect(permanent.length).toBeGreaterThan(5);
  expect([...PERMANENT_FAILURES].sort()).toEqual(permanent);
});

test('activities report permanent errors as non-retryable failures of their own type, others as retryable', () => {
  expect(toFailure(new errors.NetBoxAuthError('bad token'))).toMatchObject({ type: 'NetBoxAuthError', nonRetryable: true, message: 'bad token' });
  expect(toFailure(new errors.NetBoxUnavailableError('down'))).toMatchObject({ type: 'NetBoxUnavailableError', nonRetryable: false });
  expect(toFailure(new TypeError('oops'))).toMatchObject({ type: 'TypeError', nonRetryable: false });
});
