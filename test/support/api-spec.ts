import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import type { Response } from 'supertest';

// ajv-formats is CommonJS with a default export; under NodeNext its namespace is what the import gives.
const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default;

type Json = Record<string, unknown>;

/**
 * Checks answers against the OpenAPI 3.1 document the app SERVES (not the one in memory): the
 * status is documented for the operation, the body matches its schema (JSON Schema 2020-12, as
 * OpenAPI 3.1 says), a 204 has no body, and documented headers (Retry-After, WWW-Authenticate) are there.
 */
export function createSpecChecker(doc: Json) {
  const ajv = new Ajv2020({ strict: false, allErrors: true, validateSchema: false });
  addFormats(ajv);
  ajv.addSchema(doc, 'openapi.json');
  const paths = doc.paths as Record<string, Record<string, { responses: Record<string, Json> }>>;
  const components = doc.components as { responses: Record<string, Json> };

  const resolve = (response: Json): Json => {
    const ref = response.$ref;
    if (typeof ref !== 'string') return response;
    const name = ref.replace('#/components/responses/', '');
    const found = components.responses[name];
    if (!found) throw new Error(`the document refers to a missing response ${ref}`);
    return found;
  };

  return {
    check(method: string, template: string, res: Response): void {
      const operation = paths[template]?.[method.toLowerCase()];
      if (!operation) throw new Error(`${method.toUpperCase()} ${template} is not in the served OpenAPI document`);
      const documented = operation.responses[String(res.status)];
      if (!documented) throw new Error(`${method.toUpperCase()} ${template} answered ${res.status}, which the document does not list: ${res.text}`);
      const response = resolve(documented);
      const content = response.content as Record<string, { schema: Json }> | undefined;
      if (!content) {
        if (res.text !== '' && res.text !== undefined) throw new Error(`${res.status} must have no body, got ${res.text}`);
        return;
      }
      const schema = content['application/json']?.schema;
      if (!schema || typeof schema.$ref !== 'string') throw new Error(`${method} ${template} ${res.status}: expected a $ref schema`);
      const validate = ajv.getSchema(`openapi.json${schema.$ref}`) ?? ajv.compile({ $ref: `openapi.json${schema.$ref}` });
      if (!validate(res.body)) {
        throw new Error(`${method.toUpperCase()} ${template} ${res.status} does not match ${schema.$ref}: ${ajv.errorsText(validate.errors)}\n${res.text}`);
      }
      for (const header of Object.keys((response.headers as Json | undefined) ?? {})) {
        if (res.headers[header.toLowerCase()] === undefined) throw new Error(`${res.status} must carry the ${header} header`);
      }
    },
  };
}

export type SpecChecker = ReturnType<typeof createSpecChecker>;
