import { attributeList, projectAttributes } from './scim-attributes';
import { ScimError } from './scim-error';
import { matchesFilter, parseScimFilter } from './scim-filter';
import { SCIM, SCIM_MAX_RESULTS, type ScimResourceSchema } from './scim-schemas';

type Resource = Record<string, unknown>;

/** The query parameters of a SCIM list (RFC 7644 section 3.4.2), as strings from the URL. */
export interface ScimListQuery {
  filter?: string;
  startIndex?: string;
  count?: string;
  attributes?: string;
  excludedAttributes?: string;
}

/** The `attributes` / `excludedAttributes` of a request, read once. */
export function projectionOf(query: { attributes?: string; excludedAttributes?: string }): { attributes: string[]; excludedAttributes: string[] } {
  return { attributes: attributeList(query.attributes), excludedAttributes: attributeList(query.excludedAttributes) };
}

/** Checks a filter before any work is done, so that a bad one is refused whatever the data. */
export function checkListQuery(query: ScimListQuery, schema: ScimResourceSchema): void {
  if (query.filter !== undefined && query.filter.trim() !== '') parseScimFilter(query.filter, schema);
  paging(query);
  projectionOf(query);
}

/**
 * listResponse answers a list: the resources that pass the filter, the page that `startIndex`
 * (1-based; below 1 counts as 1) and `count` (0 gives only the total; at most SCIM_MAX_RESULTS)
 * select, projected by `attributes` / `excludedAttributes`.
 */
export function listResponse(resources: Resource[], query: ScimListQuery, schema: ScimResourceSchema): Resource {
  const filter = query.filter !== undefined && query.filter.trim() !== '' ? parseScimFilter(query.filter, schema) : undefined;
  const { startIndex, count } = paging(query);
  const matching = filter ? resources.filter((r) => matchesFilter(r, filter, schema)) : resources;
  const page = matching.slice(startIndex - 1, startIndex - 1 + count);
  const projection = projectionOf(query);
  return {
    schemas: [SCIM.listResponse],
    totalResults: matching.length,
    startIndex,
    itemsPerPage: page.length,
    Resources: page.map((r) => projectAttributes(r, schema, projection)),
  };
}

function paging(query: ScimListQuery): { startIndex: number; count: number } {
  const integer = (value: string | undefined, name: string, fallback: number) => {
    if (value === undefined || value === '') return fallback;
    if (!/^-?\d+$/.test(value.trim())) throw ScimError.invalidValue(`${name} must be an integer, got ${JSON.stringify(value)}`);
    return Number(value);
  };
  return {
    startIndex: Math.max(1, integer(query.startIndex, 'startIndex', 1)),
    count: Math.min(SCIM_MAX_RESULTS, Math.max(0, integer(query.count, 'count', 100))),
  };
}

/** One resource answered: the body (projected as asked) and the headers that go with it. */
export interface ScimAnswer {
  resource: Resource;
  etag: string;
  location: string;
}

/** answerOf projects a full resource for the answer and takes its ETag and Location from `meta` first. */
export function answerOf(resource: Resource, schema: ScimResourceSchema, query: { attributes?: string; excludedAttributes?: string }): ScimAnswer {
  const meta = resource.meta as { version: string; location: string };
  return { resource: projectAttributes(resource, schema, projectionOf(query)), etag: meta.version, location: meta.location };
}
