/**
 * Compile-time feature switches of the device SDK.
 *
 * Each switch is a property of `globalThis` that the device build
 * (`scripts/build.ts`, esbuild `define`) replaces with `true` or `false`, so
 * the code behind a switch that is off is folded away and everything only it
 * uses is left out of the bundle. Code tests a switch as
 * `globalThis.FIELDMQ_X !== false` (on) or `=== false` (off): where nothing
 * defines it (Node, tests, TypeScript users, any other bundler) the property
 * is `undefined` and every feature is on. A module that tests a switch imports
 * this file's types with `import type {} from '../flags'`.
 *
 * The profiles that turn switches off are listed in `scripts/build.ts`
 * (`ENTRIES`) and in the README's "Bundle sizes".
 */
declare global {
  /** MQTT 5.0 in `MqttClient` and the MQTT codec; off: MQTT 3.1.1 only. */
  var FIELDMQ_MQTT5: boolean | undefined;
  /** MQTT-SN QoS 2 both ways (PUBREC / PUBREL / PUBCOMP, the inbound QoS 2 ids). */
  var FIELDMQ_SN_QOS2: boolean | undefined;
  /** MQTT-SN sleeping client: `sleep()` and the asleep / awake cycle (§6.14). */
  var FIELDMQ_SN_SLEEP: boolean | undefined;
  /** MQTT-SN gateway discovery and failover: SEARCHGW, GWINFO / ADVERTISE, the gateway list (§6.1). */
  var FIELDMQ_SN_DISCOVERY: boolean | undefined;
  /** MQTT-SN Will: the Will flow of CONNECT and WILLTOPICUPD / WILLMSGUPD (§6.2–§6.4). */
  var FIELDMQ_SN_WILL: boolean | undefined;
}

export {};
