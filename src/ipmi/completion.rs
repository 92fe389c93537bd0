//! IPMI completion codes (IPMI 2.0 Table 5-2) and the command-specific codes worth naming.
//!
//! The text is the IPMI specification's, not Microsoft's `RequestResponse` page (which shows
//! `0xCA` as `0xCE` and mislabels the OEM and command-specific ranges).

use std::fmt;

use serde::{Serialize, Serializer};

use super::NetFn;

/// A completion code, as the BMC returned it in the first byte of its response.
///
/// Every value has a variant: the generic codes by name, and the three ranges the specification
/// leaves open (`01h–7Eh` device-specific, `80h–BEh` command-specific, `D7h–FEh` reserved) as
/// escapes that keep the byte.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CompletionCode {
    /// 00h: command completed normally.
    Normal,
    /// C0h: node busy.
    NodeBusy,
    /// C1h: invalid command.
    InvalidCommand,
    /// C2h: command invalid for given LUN.
    InvalidCommandForLun,
    /// C3h: timeout while processing command.
    Timeout,
    /// C4h: out of space.
    OutOfSpace,
    /// C5h: reservation canceled or invalid reservation ID.
    ReservationCanceled,
    /// C6h: request data truncated.
    RequestDataTruncated,
    /// C7h: request data length invalid.
    RequestDataLengthInvalid,
    /// C8h: request data field length limit exceeded.
    RequestDataFieldLengthLimitExceeded,
    /// C9h: parameter out of range.
    ParameterOutOfRange,
    /// CAh: cannot return number of requested data bytes.
    CannotReturnRequestedBytes,
    /// CBh: requested sensor, data, or record not present.
    NotPresent,
    /// CCh: invalid data field in request.
    InvalidDataField,
    /// CDh: command illegal for specified sensor or record type.
    IllegalForSensorOrRecordType,
    /// CEh: command response could not be provided.
    ResponseNotProvided,
    /// CFh: cannot execute duplicated request.
    DuplicateRequest,
    /// D0h: SDR repository in update mode.
    SdrRepositoryInUpdateMode,
    /// D1h: device in firmware update mode.
    FirmwareUpdateMode,
    /// D2h: BMC initialization or initialization agent in progress.
    BmcInitializing,
    /// D3h: destination unavailable.
    DestinationUnavailable,
    /// D4h: insufficient privilege level or other security restriction.
    InsufficientPrivilege,
    /// D5h: command or parameter not supported in present state.
    NotSupportedInPresentState,
    /// D6h: parameter is illegal because a sub-function is disabled or unavailable.
    SubFunctionDisabled,
    /// FFh: unspecified error.
    Unspecified,
    /// 01h–7Eh: device-specific (OEM) code.
    DeviceSpecific(u8),
    /// 80h–BEh: command-specific code; see [`CompletionCode::describe_for`].
    CommandSpecific(u8),
    /// 7Fh, BFh and D7h–FEh: reserved by the specification.
    Reserved(u8),
}

/// How a caller should treat a completion code when deciding whether to retry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CompletionClass {
    /// 00h.
    Success,
    /// Not carried out, and worth retrying after a short wait: C0h, C4h, D0h, D1h, D2h.
    Transient,
    /// Perhaps carried out: the BMC timed out while processing the command and has no response
    /// (C3h). Never re-sent unseen, since the command may have taken effect (a power cycle, a
    /// SEL entry); the caller decides.
    Indeterminate,
    /// The reservation is gone (C5h): reserve again, then retry.
    NeedsReservation,
    /// The request asked for more than the BMC can return or accept (C7h, C8h, CAh): retry with
    /// a smaller read or write.
    RequestTooLarge,
    /// Retrying the same request will not help.
    Permanent,
}

impl CompletionCode {
    /// The code for a byte.
    pub const fn from_byte(b: u8) -> Self {
        use CompletionCode::*;
        match b {
            0x00 => Normal,
            0xC0 => NodeBusy,
            0xC1 => InvalidCommand,
            0xC2 => InvalidCommandForLun,
            0xC3 => Timeout,
            0xC4 => OutOfSpace,
            0xC5 => ReservationCanceled,
            0xC6 => RequestDataTruncated,
            0xC7 => RequestDataLengthInvalid,
            0xC8 => RequestDataFieldLengthLimitExceeded,
            0xC9 => ParameterOutOfRange,
            0xCA => CannotReturnRequestedBytes,
            0xCB => NotPresent,
            0xCC => InvalidDataField,
            0xCD => IllegalForSensorOrRecordType,
            0xCE => ResponseNotProvided,
            0xCF => DuplicateRequest,
            0xD0 => SdrRepositoryInUpdateMode,
            0xD1 => FirmwareUpdateMode,
            0xD2 => BmcInitializing,
            0xD3 => DestinationUnavailable,
            0xD4 => InsufficientPrivilege,
            0xD5 => NotSupportedInPresentState,
            0xD6 => SubFunctionDisabled,
            0xFF => Unspecified,
            0x01..=0x7E => DeviceSpecific(b),
            0x80..=0xBE => CommandSpecific(b),
            _ => Reserved(b),
        }
    }

    /// The byte on the wire.
    pub const fn byte(self) -> u8 {
        use CompletionCode::*;
        match self {
            Normal => 0x00,
            NodeBusy => 0xC0,
            InvalidCommand => 0xC1,
            InvalidCommandForLun => 0xC2,
            Timeout => 0xC3,
            OutOfSpace => 0xC4,
            ReservationCanceled => 0xC5,
            RequestDataTruncated => 0xC6,
            RequestDataLengthInvalid => 0xC7,
            RequestDataFieldLengthLimitExceeded => 0xC8,
            ParameterOutOfRange => 0xC9,
            CannotReturnRequestedBytes => 0xCA,
            NotPresent => 0xCB,
            InvalidDataField => 0xCC,
            IllegalForSensorOrRecordType => 0xCD,
            ResponseNotProvided => 0xCE,
            DuplicateRequest => 0xCF,
            SdrRepositoryInUpdateMode => 0xD0,
            FirmwareUpdateMode => 0xD1,
            BmcInitializing => 0xD2,
            DestinationUnavailable => 0xD3,
            InsufficientPrivilege => 0xD4,
            NotSupportedInPresentState => 0xD5,
            SubFunctionDisabled => 0xD6,
            Unspecified => 0xFF,
            DeviceSpecific(b) | CommandSpecific(b) | Reserved(b) => b,
        }
    }

    /// `true` for 00h.
    pub const fn is_success(self) -> bool {
        matches!(self, CompletionCode::Normal)
    }

    /// ipmitool's short text for the code (its `completion_code_vals` table, typos included,
    /// so output compares byte for byte); `None` where ipmitool prints `Unknown (0xNN)`.
    pub const fn ipmitool_text(self) -> Option<&'static str> {
        use CompletionCode::*;
        Some(match self {
            Normal => "Command completed normally",
            NodeBusy => "Node busy",
            InvalidCommand => "Invalid command",
            InvalidCommandForLun => "Invalid command on LUN",
            Timeout => "Timeout",
            OutOfSpace => "Out of space",
            ReservationCanceled => "Reservation cancelled or invalid",
            RequestDataTruncated => "Request data truncated",
            RequestDataLengthInvalid => "Request data length invalid",
            RequestDataFieldLengthLimitExceeded => "Request data field length limit exceeded",
            ParameterOutOfRange => "Parameter out of range",
            CannotReturnRequestedBytes => "Cannot return number of requested data bytes",
            NotPresent => "Requested sensor, data, or record not found",
            InvalidDataField => "Invalid data field in request",
            IllegalForSensorOrRecordType => "Command illegal for specified sensor or record type",
            ResponseNotProvided => "Command response could not be provided",
            DuplicateRequest => "Cannot execute duplicated request",
            SdrRepositoryInUpdateMode => "SDR Repository in update mode",
            FirmwareUpdateMode => "Device firmeware in update mode",
            BmcInitializing => "BMC initialization in progress",
            DestinationUnavailable => "Destination unavailable",
            InsufficientPrivilege => "Insufficient privilege level",
            NotSupportedInPresentState => "Command not supported in present state",
            SubFunctionDisabled => "Cannot execute command, command disabled",
            Unspecified => "Unspecified error",
            DeviceSpecific(_) | CommandSpecific(_) | Reserved(_) => return None,
        })
    }

    /// The generic text of IPMI 2.0 Table 5-2.
    pub const fn description(self) -> &'static str {
        use CompletionCode::*;
        match self {
            Normal => "Command Completed Normally",
            NodeBusy => {
                "Node Busy. Command could not be processed because command processing resources are temporarily unavailable"
            }
            InvalidCommand => {
                "Invalid Command. Used to indicate an unrecognized or unsupported command"
            }
            InvalidCommandForLun => "Command invalid for given LUN",
            Timeout => "Timeout while processing command. Response unavailable",
            OutOfSpace => {
                "Out of space. Command could not be completed because of a lack of storage space required to execute the given command operation"
            }
            ReservationCanceled => "Reservation Canceled or Invalid Reservation ID",
            RequestDataTruncated => "Request data truncated",
            RequestDataLengthInvalid => "Request data length invalid",
            RequestDataFieldLengthLimitExceeded => "Request data field length limit exceeded",
            ParameterOutOfRange => {
                "Parameter out of range. One or more parameters in the data field of the Request are out of range"
            }
            CannotReturnRequestedBytes => "Cannot return number of requested data bytes",
            NotPresent => "Requested Sensor, data, or record not present",
            InvalidDataField => "Invalid data field in Request",
            IllegalForSensorOrRecordType => "Command illegal for specified sensor or record type",
            ResponseNotProvided => "Command response could not be provided",
            DuplicateRequest => "Cannot execute duplicated request",
            SdrRepositoryInUpdateMode => {
                "Command response could not be provided. SDR Repository in update mode"
            }
            FirmwareUpdateMode => {
                "Command response could not be provided. Device in firmware update mode"
            }
            BmcInitializing => {
                "Command response could not be provided. BMC initialization or initialization agent in progress"
            }
            DestinationUnavailable => "Destination unavailable",
            InsufficientPrivilege => {
                "Cannot execute command due to insufficient privilege level or other security-based restriction"
            }
            NotSupportedInPresentState => {
                "Cannot execute command. Command, or request parameter(s), not supported in present state"
            }
            SubFunctionDisabled => {
                "Cannot execute command. Parameter is illegal because command sub-function has been disabled or is unavailable"
            }
            Unspecified => "Unspecified error",
            DeviceSpecific(_) => "Device specific (OEM) completion code",
            CommandSpecific(_) => "Command-specific completion code",
            Reserved(_) => "Reserved completion code",
        }
    }

    /// The text for this code as returned by command `cmd` of `netfn`: the command-specific
    /// meaning where the specification gives one (e.g. 80h "parameter not supported" for Get LAN
    /// Configuration Parameters), else the generic text.
    pub fn describe_for(self, netfn: NetFn, cmd: u8) -> &'static str {
        if let CompletionCode::CommandSpecific(b) = self
            && let Some(text) = command_specific_text(netfn.request_byte(), cmd, b)
        {
            return text;
        }
        self.description()
    }

    /// How to treat this code in a retry policy.
    pub const fn class(self) -> CompletionClass {
        use CompletionCode::*;
        match self {
            Normal => CompletionClass::Success,
            Timeout => CompletionClass::Indeterminate,
            NodeBusy
            | OutOfSpace
            | SdrRepositoryInUpdateMode
            | FirmwareUpdateMode
            | BmcInitializing => CompletionClass::Transient,
            ReservationCanceled => CompletionClass::NeedsReservation,
            RequestDataLengthInvalid
            | RequestDataFieldLengthLimitExceeded
            | CannotReturnRequestedBytes => CompletionClass::RequestTooLarge,
            _ => CompletionClass::Permanent,
        }
    }

    /// `true` where the command was not carried out and a plain retry after a wait may succeed
    /// (C0h, C4h, D0h–D2h). Not C3h: see [`CompletionClass::Indeterminate`].
    pub const fn is_transient(self) -> bool {
        matches!(self.class(), CompletionClass::Transient)
    }
}

impl From<u8> for CompletionCode {
    fn from(b: u8) -> Self {
        Self::from_byte(b)
    }
}

impl From<CompletionCode> for u8 {
    fn from(c: CompletionCode) -> Self {
        c.byte()
    }
}

impl fmt::Display for CompletionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "0x{:02x}: {}", self.byte(), self.description())
    }
}

impl Serialize for CompletionCode {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u8(self.byte())
    }
}

/// Command-specific completion codes (IPMI 2.0, each command's table), keyed by request NetFn,
/// command and code.
const COMMAND_SPECIFIC: &[(u8, u8, u8, &str)] = &[
    // App: Set/Get System Info Parameters (Tables 22-14a, 22-15a).
    (0x06, 0x58, 0x80, "Parameter not supported"),
    (
        0x06,
        0x58,
        0x81,
        "Attempt to set the 'set in progress' value when not in the 'set complete' state",
    ),
    (0x06, 0x58, 0x82, "Attempt to write read-only parameter"),
    (0x06, 0x59, 0x80, "Parameter not supported"),
    // App: Reset Watchdog Timer.
    (0x06, 0x22, 0x80, "Attempt to start un-initialized watchdog"),
    // App: Get Message / Read Event Message Buffer.
    (
        0x06,
        0x33,
        0x80,
        "Data not available (queue / buffer empty)",
    ),
    (
        0x06,
        0x35,
        0x80,
        "Data not available (queue / buffer empty)",
    ),
    // App: Send Message.
    (0x06, 0x34, 0x80, "Invalid session handle"),
    (0x06, 0x34, 0x81, "Lost arbitration"),
    (0x06, 0x34, 0x82, "Bus error"),
    (0x06, 0x34, 0x83, "NAK on write"),
    // App: Set User Password.
    (
        0x06,
        0x47,
        0x80,
        "Password test failed: password size correct, but password data does not match",
    ),
    (
        0x06,
        0x47,
        0x81,
        "Password test failed: wrong password size",
    ),
    // Chassis: Set/Get System Boot Options.
    (0x00, 0x08, 0x80, "Parameter not supported"),
    (
        0x00,
        0x08,
        0x81,
        "Attempt to set the 'set in progress' value when not in the 'set complete' state",
    ),
    (0x00, 0x08, 0x82, "Attempt to write read-only parameter"),
    (0x00, 0x09, 0x80, "Parameter not supported"),
    // Storage: FRU.
    (0x0A, 0x11, 0x81, "FRU device busy"),
    (0x0A, 0x12, 0x80, "Write-protected offset"),
    (0x0A, 0x12, 0x81, "FRU device busy"),
    // Storage: SEL.
    (
        0x0A,
        0x43,
        0x81,
        "Cannot execute command, SEL erase in progress",
    ),
    (
        0x0A,
        0x46,
        0x80,
        "Operation not supported for this record type",
    ),
    (
        0x0A,
        0x46,
        0x81,
        "Cannot execute command, SEL erase in progress",
    ),
    // Sensor/Event: Set Sensor Reading and Event Status.
    (
        0x04,
        0x30,
        0x80,
        "Attempt to change reading or set or clear status bits that are not settable",
    ),
    (
        0x04,
        0x30,
        0x81,
        "Attempted to set Event Data Bytes, but setting Event Data Bytes is not supported",
    ),
    // Transport: Set/Get LAN Configuration Parameters (Tables 23-1, 23-3).
    (0x0C, 0x01, 0x80, "Parameter not supported"),
    (
        0x0C,
        0x01,
        0x81,
        "Attempt to set the 'set in progress' value when not in the 'set complete' state",
    ),
    (0x0C, 0x01, 0x82, "Attempt to write read-only parameter"),
    (0x0C, 0x01, 0x83, "Attempt to read write-only parameter"),
    (0x0C, 0x02, 0x80, "Parameter not supported"),
];

fn command_specific_text(netfn: u8, cmd: u8, code: u8) -> Option<&'static str> {
    COMMAND_SPECIFIC
        .iter()
        .find(|(n, c, k, _)| *n == netfn && *c == cmd && *k == code)
        .map(|(_, _, _, text)| *text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_byte_round_trips() {
        for b in 0..=255u8 {
            assert_eq!(CompletionCode::from_byte(b).byte(), b);
        }
    }

    #[test]
    fn ranges_follow_table_5_2_not_the_microsoft_page() {
        assert_eq!(
            CompletionCode::from_byte(0xCA),
            CompletionCode::CannotReturnRequestedBytes
        );
        assert_eq!(
            CompletionCode::from_byte(0x01),
            CompletionCode::DeviceSpecific(1)
        );
        assert_eq!(
            CompletionCode::from_byte(0x7E),
            CompletionCode::DeviceSpecific(0x7E)
        );
        assert_eq!(
            CompletionCode::from_byte(0x80),
            CompletionCode::CommandSpecific(0x80)
        );
        assert_eq!(
            CompletionCode::from_byte(0xBE),
            CompletionCode::CommandSpecific(0xBE)
        );
        assert_eq!(
            CompletionCode::from_byte(0xD6),
            CompletionCode::SubFunctionDisabled
        );
        assert_eq!(
            CompletionCode::from_byte(0xD7),
            CompletionCode::Reserved(0xD7)
        );
        assert_eq!(
            CompletionCode::from_byte(0x7F),
            CompletionCode::Reserved(0x7F)
        );
        assert_eq!(CompletionCode::from_byte(0xFF), CompletionCode::Unspecified);
    }

    #[test]
    fn retry_classes() {
        for b in [0xC0, 0xC4, 0xD0, 0xD1, 0xD2] {
            assert!(CompletionCode::from_byte(b).is_transient(), "{b:#x}");
        }
        // C3h: timed out while processing, so perhaps carried out; not a plain retry.
        assert_eq!(
            CompletionCode::from_byte(0xC3).class(),
            CompletionClass::Indeterminate
        );
        assert!(!CompletionCode::from_byte(0xC3).is_transient());
        assert_eq!(
            CompletionCode::from_byte(0xC5).class(),
            CompletionClass::NeedsReservation
        );
        for b in [0xC7, 0xC8, 0xCA] {
            assert_eq!(
                CompletionCode::from_byte(b).class(),
                CompletionClass::RequestTooLarge
            );
        }
        for b in [0xC1, 0xC9, 0xCC, 0xD4, 0xFF, 0x80] {
            assert_eq!(
                CompletionCode::from_byte(b).class(),
                CompletionClass::Permanent
            );
        }
        assert_eq!(CompletionCode::Normal.class(), CompletionClass::Success);
    }

    #[test]
    fn command_specific_text_is_looked_up_by_netfn_and_command() {
        let c = CompletionCode::from_byte(0x80);
        assert_eq!(
            c.describe_for(NetFn::Transport, 0x02),
            "Parameter not supported"
        );
        assert_eq!(c.describe_for(NetFn::App, 0x59), "Parameter not supported");
        assert_eq!(
            CompletionCode::from_byte(0x81).describe_for(NetFn::Storage, 0x11),
            "FRU device busy"
        );
        // Unknown command: the generic range text.
        assert_eq!(
            c.describe_for(NetFn::App, 0x01),
            "Command-specific completion code"
        );
        // Generic codes keep their generic text whatever the command.
        assert_eq!(
            CompletionCode::from_byte(0xC1).describe_for(NetFn::App, 0x04),
            "Invalid Command. Used to indicate an unrecognized or unsupported command"
        );
    }

    #[test]
    fn display_names_the_byte() {
        assert_eq!(
            CompletionCode::from_byte(0xC7).to_string(),
            "0xc7: Request data length invalid"
        );
    }
}
