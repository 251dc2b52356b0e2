/** Documentation of every key, from the schemas' descriptions. */
import { z } from "zod";
import { plainKeySchemas, unwrap } from "./schema";
import { secretKeySchemas } from "./secrets";

/** Documentation of every key: test/repository/readme.test.ts holds docs/configuration.md to it. */
export function configKeyDocs(): Array<{ key: string; secret: boolean; description: string }> {
  const rows: Array<{ key: string; secret: boolean; description: string }> = [];
  const walk = (schema: z.ZodType, key: string, secret: boolean) => {
    const s = unwrap(schema);
    const description = schema.description ?? s.description ?? "";
    if (s instanceof z.ZodObject) {
      if (description) rows.push({ key, secret, description });
      for (const [child, childSchema] of Object.entries(s.shape as Record<string, z.ZodType>)) walk(childSchema, `${key}.${child}`, secret);
      return;
    }
    if (s instanceof z.ZodArray && unwrap(s.element as z.ZodType) instanceof z.ZodObject) {
      rows.push({ key: `${key}[]`, secret, description });
      for (const [child, childSchema] of Object.entries(
        (unwrap(s.element as z.ZodType) as z.ZodObject).shape as Record<string, z.ZodType>,
      )) {
        walk(childSchema, `${key}[].${child}`, secret);
      }
      return;
    }
    rows.push({ key, secret, description });
  };
  for (const [key, schema] of Object.entries(plainKeySchemas)) walk(schema, key, false);
  for (const [key, schema] of Object.entries(secretKeySchemas)) walk(schema, key, true);
  return rows;
}
