// How much of a request body the API reads, per route. Bodies are read only after the key check (auth.ts), and a
// Content-Length over the limit is refused (413) before a byte of the body is read.

/** Every JSON route: keys, RRsets, challenges, edges, pools, deploy manifests (20,000 paths fit in well under this). */
export const JSON_BODY_LIMIT = 1024 * 1024;

/** Zone files (POST /v1/zones) and the PowerDNS routes that carry a whole zone's RRsets: some hundred thousand records. */
export const ZONE_BODY_LIMIT = 10 * 1024 * 1024;

// Site files (PUT /v1/blobs/:sha256) are not parsed: the route reads them as a stream into one buffer, up to the
// pages limit of 25 MiB per file (src/pages/model.ts MAX_FILE_BYTES), and needs their Content-Length to do so.
