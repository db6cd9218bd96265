/**
 * `pulumi-intune-remote-assistance/testing`: test a Pulumi program that uses this provider offline, the way this
 * project tests itself: a Graph + Entra emulator on loopback (both profiles, every fault and switch), and the
 * driver that plays the Pulumi engine's sequences against the real dynamic-provider host.
 */
export {
  alternatives,
  defaultClientId,
  defaultClientSecret,
  defaultTenantId,
  INTUNE_ROW_NAME,
  intuneLimits,
  limitShape,
  limitShapes,
  limitsAt,
  profiles,
  startEmulator,
  type Alternative,
  type Emulator,
  type EmulatorOptions,
  type Fault,
  type FaultMatch,
  type LimitShape,
  type Profile,
  type ThrottleLimits,
} from "../emulator";
export {
  FakeEngine,
  ProviderCallError,
  ProviderHost,
  programInputs,
  secret,
  settingsInputs,
  Stack,
  urnOf,
  type HostOptions,
  type Props,
  type ResourceOptions,
  type Secret,
  type StateEntry,
  type UpOutcome,
} from "./engine";
