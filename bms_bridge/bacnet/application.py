"""The bacpypes3 Application our device runs, limited to the services it really executes.

bacpypes3 answers every request it finds a `do_<Request>` helper for and derives
Protocol_Services_Supported from those helpers, mapping the unconfirmed ones through the *confirmed*
service table (so Who-Is shows up as addListElement). It also inherits helpers that only raise
NotImplementedError (ReadRange) or that no gateway should offer to anyone on the network
(DeviceCommunicationControl silences the device). Here one table, `EXECUTED`, decides both what is
dispatched and what is published in Protocol_Services_Supported (clause 12.11.17), so the two cannot
drift apart.

Writes (15.9 WriteProperty, 15.10 WritePropertyMultiple) are checked for permission before the value is
decoded, so a read-only property answers write-access-denied whatever datatype was sent, and a
writable one answers invalid-data-type (an Error, not a Reject) when the datatype is wrong.
"""

from __future__ import annotations

import logging
from typing import Any

from bacpypes3.apdu import (
    ConfirmedRequestPDU,
    ReadPropertyMultipleRequest,
    ReadPropertyRequest,
    ReadRangeACK,
    ReadRangeRequest,
    SimpleAckPDU,
    SubscribeCOVRequest,
    WhoHasRequest,
    WhoIsRequest,
    WritePropertyMultipleError,
    WritePropertyMultipleRequest,
    WritePropertyRequest,
)
from bacpypes3.app import Application
from bacpypes3.basetypes import ErrorType, LogRecord, ObjectPropertyReference, ServicesSupported
from bacpypes3.constructeddata import Any as AnyValue
from bacpypes3.constructeddata import Array, ListOf
from bacpypes3.errors import ExecutionError, RejectException, UnrecognizedService
from bacpypes3.primitivedata import Unsigned

from bms_bridge.bacnet.trend_log import MeterTrendLog, python_datetime, time_window, window

log = logging.getLogger(__name__)

# Requests this device executes, by bacpypes3 request class -> ServicesSupported bit (21, BACnetServicesSupported)
EXECUTED: dict[type, str] = {
    ReadPropertyRequest: "readProperty",
    ReadPropertyMultipleRequest: "readPropertyMultiple",
    WritePropertyRequest: "writeProperty",
    WritePropertyMultipleRequest: "writePropertyMultiple",
    SubscribeCOVRequest: "subscribeCOV",
    WhoIsRequest: "whoIs",
    WhoHasRequest: "whoHas",
}

WILDCARD_DEVICE = ("device", 4194303)  # 12.11.1: stands for "this device" in requests


class WriteRefused(Exception):
    """A write that fails with an error class/code (15.9.1.3.1)."""

    def __init__(self, error_class: str, error_code: str) -> None:
        super().__init__(f"{error_class}/{error_code}")
        self.error_class = error_class
        self.error_code = error_code


def can_write(obj: Any, prop: str) -> bool:
    """Our objects say which properties YAML made writable; anything else is read-only."""
    writable: frozenset[str] = getattr(obj, "_writable_properties", frozenset())
    return prop in writable


class GatewayApplication(Application):  # type: ignore[misc]
    """bacpypes3 Application serving only `EXECUTED` and refusing writes unless an object allows them."""

    # set by the server when it serves Trend Log objects: only then is ReadRange executed and claimed
    trend_logs_served = False

    def executed(self) -> dict[type, str]:
        if self.trend_logs_served:
            return {**EXECUTED, ReadRangeRequest: "readRange"}
        return EXECUTED

    def get_services_supported(self) -> ServicesSupported:
        bits = ServicesSupported([])
        for name in self.executed().values():
            bits[getattr(ServicesSupported, name)] = 1
        return bits

    async def indication(self, apdu: Any) -> None:
        if type(apdu) not in self.executed():
            if isinstance(apdu, ConfirmedRequestPDU):
                # 18.9.2 / 5.4.5.3: a service we do not execute is rejected as unrecognized
                await self.response(_reject_unrecognized(apdu))
            return  # unconfirmed requests we do not execute (I-Am, I-Have, COV notifications) are ignored
        await super().indication(apdu)

    # -- WriteProperty / WritePropertyMultiple ----------------------------------------------------

    async def do_WritePropertyRequest(self, apdu: WritePropertyRequest) -> None:
        try:
            await self._write_one(
                apdu.objectIdentifier,
                apdu.propertyIdentifier,
                apdu.propertyArrayIndex,
                apdu.propertyValue,
                apdu.priority,
            )
        except WriteRefused as refused:
            raise ExecutionError(errorClass=refused.error_class, errorCode=refused.error_code) from None
        await self.response(SimpleAckPDU(context=apdu))

    async def do_WritePropertyMultipleRequest(self, apdu: WritePropertyMultipleRequest) -> None:
        # 15.10.1.3.2: writes are done in order; the first failure ends the request and is reported
        # with its object/property reference, earlier writes stay done
        for spec in apdu.listOfWriteAccessSpecs:
            for prop in spec.listOfProperties:
                try:
                    await self._write_one(
                        spec.objectIdentifier,
                        prop.propertyIdentifier,
                        prop.propertyArrayIndex,
                        prop.value,
                        prop.priority,
                    )
                except WriteRefused as refused:
                    reference = ObjectPropertyReference(
                        objectIdentifier=self._resolve(spec.objectIdentifier),
                        propertyIdentifier=prop.propertyIdentifier,
                    )
                    if prop.propertyArrayIndex is not None:
                        reference.propertyArrayIndex = prop.propertyArrayIndex
                    error = WritePropertyMultipleError(
                        errorType=ErrorType(errorClass=refused.error_class, errorCode=refused.error_code),
                        firstFailedWriteAttempt=reference,
                        context=apdu,
                    )
                    await self.response(error)
                    return
        await self.response(SimpleAckPDU(context=apdu))

    def _resolve(self, object_identifier: Any) -> Any:
        if object_identifier == WILDCARD_DEVICE and self.device_object is not None:
            return self.device_object.objectIdentifier
        return object_identifier

    async def _write_one(self, object_identifier: Any, prop: Any, index: int | None, value: Any, priority: Any) -> None:
        obj = self.get_object_id(self._resolve(object_identifier))
        if obj is None:
            raise WriteRefused("object", "unknownObject")
        property_type = obj.get_property_type(prop)
        if property_type is None:
            raise WriteRefused("property", "unknownProperty")
        if not can_write(obj, prop.attr):
            raise WriteRefused("property", "writeAccessDenied")
        if issubclass(property_type, Array) and index is not None:
            property_type = Unsigned if index == 0 else property_type._subtype
        try:
            decoded = value.cast_out(property_type, null=priority is not None)
        except (RejectException, ValueError, TypeError, AttributeError):
            # 15.9.1.3.1: a value of the wrong datatype is an Error (property, invalid-data-type)
            raise WriteRefused("property", "invalidDataType") from None
        await obj.write_property(prop, decoded, index, priority)

    # -- ReadRange (15.8) --------------------------------------------------------------------------

    async def do_ReadRangeRequest(self, apdu: ReadRangeRequest) -> None:
        obj = self.get_object_id(self._resolve(apdu.objectIdentifier))
        if obj is None:
            raise ExecutionError(errorClass="object", errorCode="unknownObject")
        if obj.get_property_type(apdu.propertyIdentifier) is None:
            raise ExecutionError(errorClass="property", errorCode="unknownProperty")
        if not isinstance(obj, MeterTrendLog) or apdu.propertyIdentifier.attr != "logBuffer":
            raise ExecutionError(errorClass="services", errorCode="propertyIsNotAList")
        if apdu.propertyArrayIndex is not None:
            raise ExecutionError(errorClass="property", errorCode="propertyIsNotAnArray")
        source, point_id = obj._source, obj._point_id
        total = await source.count(point_id)
        wanted = apdu.range
        first_sequence: int | None = None
        if wanted is None:  # 15.8: no range means the whole list (as much as fits)
            found = window(total, 1, total) if total else window(0, 1, 1)
        elif wanted.byPosition is not None:
            found = window(total, int(wanted.byPosition.referenceIndex), int(wanted.byPosition.count))
        elif wanted.bySequenceNumber is not None:
            rng = wanted.bySequenceNumber
            found = window(total, int(rng.referenceSequenceNumber), int(rng.count))
            first_sequence = found.offset + 1 if found.count else None
        elif wanted.byTime is not None:
            try:
                moment = python_datetime(wanted.byTime.referenceTime)
            except ValueError:
                raise ExecutionError(errorClass="services", errorCode="parameterOutOfRange") from None
            not_after = await source.count(point_id, before=moment, inclusive=True)
            before = await source.count(point_id, before=moment)
            found = time_window(total, not_after, before, int(wanted.byTime.count))
            first_sequence = found.offset + 1 if found.count else None
        else:
            raise ExecutionError(errorClass="services", errorCode="missingRequiredParameter")
        records = await obj.records(found) if found.count else []
        ack = ReadRangeACK(
            objectIdentifier=obj.objectIdentifier,
            propertyIdentifier=apdu.propertyIdentifier,
            resultFlags=found.result_flags,
            itemCount=len(records),
            itemData=AnyValue(ListOf(LogRecord)(records)),
            context=apdu,
        )
        if first_sequence is not None:  # 15.8: given with sequence-number and time ranges
            ack.firstSequenceNumber = first_sequence
        await self.response(ack)

    # -- COV ----------------------------------------------------------------------------------------

    def cov_confirmation(self, cov: Any, future: Any) -> None:
        """A confirmed COV notification the subscriber did not acknowledge is not our fault (13.1.2):
        note it once per subscription instead of a traceback per notification."""
        try:
            future.result()
        except BaseException as err:  # bacpypes3's Abort/Reject/Error derive from BaseException
            if not getattr(cov, "_unacknowledged_logged", False):
                cov._unacknowledged_logged = True
                log.warning("COV subscriber %s did not acknowledge a notification: %r", cov.client_addr, err)
            return
        cov._unacknowledged_logged = False


def _reject_unrecognized(apdu: Any) -> Any:
    from bacpypes3.apdu import RejectPDU

    return RejectPDU(reason=UnrecognizedService().rejectReason, context=apdu)
