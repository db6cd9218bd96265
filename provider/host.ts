/**
 * The providers as they run in the dynamic-provider host. The provider serialized into state only holds
 * `require("pulumi-intune-remote-assistance/host")` and the name of one export below: this module's path and
 * these two names are a contract with every state ever written, so that another checkout or a later release
 * refreshes and destroys it.
 *
 * Loading it in the host (on the host's first call) also ties the process to its engine: it exits when the
 * engine is gone (`core/lifeline.ts`).
 */
import { exitWithEngine } from "./core/lifeline";
import { hostEngineAddress } from "./core/progress";

exitWithEngine(hostEngineAddress(process.argv));

export { partnerOperations as provider } from "./partner/operations";
export { settingsOperations as remoteAssistanceSettings } from "./remoteHelp/operations";
