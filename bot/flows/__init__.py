"""Reading authored flow files into validated engine models."""

from bot.flows.errors import FlowError, FlowErrors, Location
from bot.flows.loader import LoadedFlows, Reference, load_flow_file, load_flows

__all__ = [
    "FlowError",
    "FlowErrors",
    "LoadedFlows",
    "Location",
    "Reference",
    "load_flow_file",
    "load_flows",
]
