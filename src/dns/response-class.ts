// What kind of response an answer is, for response rate limiting (rrl.ts): BIND's and Knot's RRL count answers,
// NXDOMAIN, errors and referrals apart, so a flood of one kind does not starve the others. Decided when an answer
// is encoded and cached with its bytes, so the query path only reads it.

export const ResponseClass = {
  /** Data for the question name (and CNAME chains). */
  ANSWER: 0,
  /** Data synthesized from a wildcard: every name under it counts as one. */
  WILDCARD: 1,
  /** The name exists, the type does not. */
  NODATA: 2,
  NXDOMAIN: 3,
  REFERRAL: 4,
  /** REFUSED, FORMERR, NOTIMP, NOTAUTH, BADVERS, SERVFAIL. */
  ERROR: 5,
} as const;

export type ResponseClassCode = (typeof ResponseClass)[keyof typeof ResponseClass];

/** Metric labels, indexed by code. */
export const RESPONSE_CLASS_NAMES = ['answer', 'wildcard', 'nodata', 'nxdomain', 'referral', 'error'] as const;
