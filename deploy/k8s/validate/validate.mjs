// Validates every object of a multi-document YAML stream (stdin) against the Kubernetes schemas of
// kubernetes-models, offline. Prints one line per object and exits 1 if any is invalid or of an unknown kind.
import { parseAllDocuments } from "yaml";

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
let failed = 0;
for (const doc of parseAllDocuments(Buffer.concat(chunks).toString("utf8"))) {
  const object = doc.toJS();
  if (!object) continue;
  const name = `${object.kind}/${object.metadata?.name}`;
  // kustomize wraps long base64 values at 70 columns; the API server's decoder skips the line breaks.
  if (object.kind === "Secret" && object.data) {
    for (const key of Object.keys(object.data)) object.data[key] = object.data[key].replace(/\s/g, "");
  }
  try {
    const module = await import(`kubernetes-models/${object.apiVersion}/${object.kind}`);
    new module[object.kind](object).validate();
    console.log(`valid ${object.apiVersion} ${name}`);
  } catch (error) {
    failed++;
    console.log(`invalid ${object.apiVersion} ${name}: ${error.message.replaceAll("\n", " ")}`);
  }
}
process.exit(failed === 0 ? 0 : 1);
