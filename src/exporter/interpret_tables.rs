//! FreeIPMI 1.6.10's default sensor-state interpretation (libfreeipmi/interpret,
//! `ipmi-interpret-config-sensor.c`): for each (event/reading type, sensor type), the state of
//! each event offset. ipmi_exporter reports these states (0 nominal, 1 warning, 2 critical); the
//! tables are FreeIPMI's defaults as facts, so our states are its states.
//!
//! `N` nominal, `W` warning, `C` critical; entry 0 applies when no event bit is set, entry i
//! when bit i-1 is.

pub(super) const TABLES: [&str; 76] = [
    "NWCN",             // battery
    "NCCCCW",           // boot_error
    "NNC",              // boot_error_state
    "NNWCCWCCWN",       // boot_error_transition_severity
    "NNNNWW",           // button_switch
    "NNN",              // button_switch_state
    "NNWCCWCCWN",       // button_switch_transition_severity
    "NNC",              // cable_interconnect
    "NNWCCWCCWN",       // cable_interconnect_transition_severity
    "NNWCCWCCWN",       // chassis_transition_severity
    "NNWCCWCCWN",       // chip_set_transition_severity
    "NNCWCCCWW",        // cooling_device_redundancy
    "NCCCWCCCWCCCW",    // critical_interrupt
    "NNWCCWCCWN",       // current_transition_severity
    "NNCCNNCCNC",       // drive_slot
    "NCN",              // drive_slot_device_present
    "NNC",              // drive_slot_predictive_failure
    "NWN",              // drive_slot_state
    "NNWCCWCCWN",       // drive_slot_transition_severity
    "NNCC",             // entity_presence
    "NCN",              // entity_presence_device_present
    "NCCNCCWC",         // event_logging_disabled
    "NCN",              // fan_device_present
    "NNCWCCCWW",        // fan_redundancy
    "NNW",              // fan_state
    "NNWWWWWCWC",       // fan_transition_availability
    "NNWCCWCCWN",       // fan_transition_severity
    "NCCWWNWWC",        // fru_state
    "NCCCCCC",          // management_subsystem_health
    "NCN",              // management_subsystem_health_device_present
    "NNWCCWCCWN",       // management_subsystem_health_transition_severity
    "NWCCCCWNCNWC",     // memory
    "NNCWCCCWW",        // memory_redundancy
    "NNC",              // memory_state
    "NNWCCWCCWN",       // memory_transition_severity
    "NCN",              // module_board_device_present
    "NNC",              // module_board_state
    "NNNNNNNWNNWC",     // os_boot
    "NNC",              // os_critical_stop_state
    "NCCCCCCC",         // physical_security
    "NNC",              // platform_alert_state
    "NCCCCCC",          // platform_security_violation_attempt
    "NNW",              // post_memory_resize_state
    "NNCCCCCCW",        // power_supply
    "NNCWCCCWW",        // power_supply_redundancy
    "NNW",              // power_supply_state
    "NNWCCWCCWN",       // power_supply_transition_severity
    "NNNWWCCCC",        // power_unit
    "NCN",              // power_unit_device_present
    "NNCWCCCWW",        // power_unit_redundancy
    "NNW",              // power_unit_state
    "NNWCCWCCWN",       // power_unit_transition_severity
    "NCCCCCCCNCCWCW",   // processor
    "NNC",              // processor_state
    "NNNWC",            // session_audit
    "NCWNNNNWWWN",      // slot_connector
    "NNWCCWCCWN",       // slot_connector_transition_severity
    "NNNNNNNNNNNNNNCC", // system_acpi_power_state
    "NWNCNNW",          // system_event
    "NNW",              // system_event_state
    "NNWCCWCCWN",       // system_event_transition_severity
    "NNNN",             // system_event_transition_state
    "NCCN",             // system_firmware_progress
    "NCN",              // system_firmware_progress_device_present
    "NNW",              // system_firmware_progress_state
    "NNWCCWCCWN",       // system_firmware_progress_transition_severity
    "NNC",              // temperature_limit
    "NNW",              // temperature_state
    "NNWCCWCCWN",       // temperature_transition_severity
    "NNCCNCC",          // threshold
    "NWWCCCCNN",        // version_change
    "NNC",              // voltage_limit
    "NNC",              // voltage_performance
    "NNW",              // voltage_state
    "NNWCCWCCWN",       // voltage_transition_severity
    "NWCCCNNNNW",       // watchdog2
];

/// Generic event/reading types 02h–0Ch: (event/reading type, sensor type, table).
pub(super) const GENERIC: [(u8, u8, usize); 51] = [
    (0x03, 0x01, 67),
    (0x05, 0x01, 66),
    (0x07, 0x01, 68),
    (0x03, 0x02, 73),
    (0x05, 0x02, 71),
    (0x06, 0x02, 72),
    (0x07, 0x02, 74),
    (0x07, 0x03, 13),
    (0x03, 0x04, 24),
    (0x07, 0x04, 26),
    (0x08, 0x04, 22),
    (0x0A, 0x04, 25),
    (0x0B, 0x04, 23),
    (0x03, 0x07, 53),
    (0x03, 0x08, 45),
    (0x07, 0x08, 46),
    (0x0B, 0x08, 44),
    (0x03, 0x09, 50),
    (0x07, 0x09, 51),
    (0x08, 0x09, 48),
    (0x0B, 0x09, 49),
    (0x0B, 0x0A, 11),
    (0x03, 0x0C, 33),
    (0x07, 0x0C, 34),
    (0x0B, 0x0C, 32),
    (0x03, 0x0D, 17),
    (0x04, 0x0D, 16),
    (0x07, 0x0D, 18),
    (0x08, 0x0D, 15),
    (0x03, 0x0E, 42),
    (0x03, 0x0F, 64),
    (0x08, 0x0F, 63),
    (0x07, 0x0F, 65),
    (0x02, 0x12, 61),
    (0x03, 0x12, 59),
    (0x07, 0x12, 60),
    (0x03, 0x14, 5),
    (0x07, 0x14, 6),
    (0x03, 0x15, 36),
    (0x08, 0x15, 35),
    (0x07, 0x18, 9),
    (0x07, 0x19, 10),
    (0x07, 0x1B, 8),
    (0x03, 0x1E, 2),
    (0x07, 0x1E, 3),
    (0x03, 0x20, 38),
    (0x07, 0x21, 56),
    (0x03, 0x24, 40),
    (0x08, 0x25, 20),
    (0x07, 0x28, 30),
    (0x08, 0x28, 29),
];

/// Sensor-specific (event/reading type 6Fh): (sensor type, table).
pub(super) const SPECIFIC: [(u8, usize); 24] = [
    (0x05, 39),
    (0x06, 41),
    (0x07, 52),
    (0x08, 43),
    (0x09, 47),
    (0x0C, 31),
    (0x0D, 14),
    (0x0F, 62),
    (0x10, 21),
    (0x12, 58),
    (0x13, 12),
    (0x14, 4),
    (0x1B, 7),
    (0x1E, 1),
    (0x1F, 37),
    (0x21, 55),
    (0x22, 57),
    (0x23, 75),
    (0x25, 19),
    (0x28, 28),
    (0x29, 0),
    (0x2A, 54),
    (0x2B, 70),
    (0x2C, 27),
];

/// The threshold table.
pub(super) const THRESHOLD: usize = 69;
