#!/usr/bin/python3
"""A Modbus/TCP server for the ppscan-id lab: Debian's python3-pymodbus (3.0) TCP server with a
small register map and a device identification (MODBUS Application Protocol V1.1b3, 6.21).

Usage: modbus_server.py ADDRESS PORT
"""
import sys

from pymodbus.datastore import (ModbusSequentialDataBlock, ModbusServerContext,
                                ModbusSlaveContext)
from pymodbus.device import ModbusDeviceIdentification
from pymodbus.server import StartTcpServer


def main():
    address, port = sys.argv[1], int(sys.argv[2])
    block = ModbusSequentialDataBlock(0, [0] * 64)
    store = ModbusSlaveContext(di=block, co=block, hr=block, ir=block)
    identity = ModbusDeviceIdentification(info_name={
        "VendorName": "Pymodbus",
        "ProductCode": "PM",
        "VendorUrl": "https://github.com/pymodbus-dev/pymodbus/",
        "ProductName": "ppscan lab PLC",
        "ModelName": "Pymodbus Server",
        "MajorMinorRevision": "3.0.0",
    })
    StartTcpServer(context=ModbusServerContext(slaves=store, single=True), identity=identity,
                   address=(address, port))


if __name__ == "__main__":
    main()
