/**
 * Errors that retrying cannot fix (workflows/input.ts lists their names for retry policies; a test keeps
 * the two in step). Each carries the fix in its message; activities turn them into
 * non-retryable Temporal failures whose type is the class name (see activities/index.ts).
 */
export class PermanentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

export class UnknownInstanceError extends PermanentError {}
export class PrefixSyncDisabledError extends PermanentError {}
export class InvalidInputError extends PermanentError {}
export class DuplicateInstanceError extends PermanentError {}
/** 401/403 from NetBox: a wrong token or a missing permission. */
export class NetBoxAuthError extends PermanentError {}
/** The base URL answers, but not as a NetBox API. */
export class NotANetBoxApiError extends PermanentError {}
/** NetBox refused a request as invalid (4xx other than auth): retrying the same request will not help. */
export class NetBoxRequestRejectedError extends PermanentError {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

/** NetBox could not be reached or answered 5xx/429 after the client's own retries; Temporal retries more. */
export class NetBoxUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NetBoxUnavailableError';
  }
}


/** NetBox answered with a shape this integration cannot read (a NetBox version or plugin it does not know). */
export class UnexpectedNetBoxResponseError extends PermanentError {}

/** An object in NetBox is in the way of ours (say, a custom field of the same name but another type): a person must decide. */
export class NetBoxObjectConflictError extends PermanentError {}
