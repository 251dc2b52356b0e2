/** A YAML file the scripts read (a stack file, Pulumi.yaml), refused with the file, the line and the column of each error. */
import * as YAML from "yaml";
import { yamlErrors } from "../components/kit/file-errors";

/**
 * A YAML file's text as data; throws naming the file (as `shown`) with the line and column of
 * each error. A key given twice in a map is an error, as the `yaml` package's parse makes it.
 */
export function parseYamlFile(text: string, shown: string): unknown {
  const doc = YAML.parseDocument(text, { uniqueKeys: true });
  const errors = yamlErrors(doc);
  if (errors.length > 0) throw new Error(errors.map((e) => `${shown}: ${e}`).join("\n"));
  return doc.toJS();
}
