/** The components' own problems and warnings (each section's `problems` and `warnings`), in the one list. */
import { AnySection, COMPONENT_SECTIONS, ComponentSectionName } from "../../components/stack/sections";
import { CheckInput, sectionProblems } from "./check";

/** The check of one component's section: its problems keyed under the section, its warnings as sentences. */
export function sectionChecks(name: ComponentSectionName): (input: CheckInput) => void {
  return (input) => {
    const section: AnySection = COMPONENT_SECTIONS[name];
    const resolved = input.resolved[name];
    sectionProblems(name, section.problems?.(resolved) ?? [], input, Object.keys(section.secrets ?? {}));
    for (const warning of section.warnings?.(resolved) ?? []) {
      const key = input.key(`${name}.${warning.key}`);
      input.warnings.push("sentence" in warning ? `${key}: ${warning.sentence}` : `${key} ${warning.message}.`);
    }
  };
}
