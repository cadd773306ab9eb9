"""The facilitator sign-in that every facilitator and course-designer tab sits behind.

Every facilitator and course-designer handler is wired through :meth:`Gate.on`, which puts the
server-side sign-in check in front of it; :func:`check_gated` (run by ``build_app``) refuses to
build an app in which an event touching those tabs was wired any other way, so a new handler
cannot forget the check.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import gradio as gr

from simulator.ui.auth import NOT_SIGNED_IN
from simulator.ui.context import AppContext
from simulator.ui.throttle import client_of, refused, wait_message

log = logging.getLogger(__name__)

ACCESS = "_rapport_access"
"""Attribute marking a handler as checked: "facilitator" (behind the sign-in) or "sign-in"."""
FACILITATOR_ACCOUNT = "facilitator"
WRONG_LOGIN = "✖ That user name and password do not match."
LOCKED = (
    "✖ No facilitator login is set on this server, and it is reachable from the network, so "
    "these tabs are closed. Whoever runs it sets RAPPORT_ADMIN_USER and RAPPORT_ADMIN_PASSWORD."
)


def guarded(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` behind the sign-in check; its first argument is the session's sign-in state.

    Refusals raise ``gr.Error``, which ends the event with the message and no output, so the
    check does not depend on what the handler returns. ``functools.wraps`` keeps ``fn``'s
    signature, which Gradio reads to inject ``gr.Progress`` and ``gr.Request``.
    """

    @functools.wraps(fn)
    def checked(allowed: Any, *args: Any, **kwargs: Any) -> Any:
        if allowed is not True:
            log.warning("facilitator handler %s refused: not signed in", fn.__name__)
            raise gr.Error(NOT_SIGNED_IN, print_exception=False)
        return fn(allowed, *args, **kwargs)

    setattr(checked, ACCESS, "facilitator")
    return checked


@dataclass
class Gate:
    """One sign-in form per admin tab; signing in on either opens both.

    ``allowed`` lives in server-side session state, so a browser cannot set it; every admin
    handler is wired with :meth:`on`, which passes it first and refuses to run without it.
    Components whose contents are for facilitators only (lists of saved scenarios) are filled
    by :meth:`after_sign_in` hooks, so the public page config never names them.
    """

    allowed: gr.State
    forms: list[gr.Column] = field(default_factory=list)
    contents: list[gr.Column] = field(default_factory=list)
    fields: list[tuple[gr.Button, gr.Textbox, gr.Textbox, gr.Markdown]] = field(
        default_factory=list
    )
    hooks: list[tuple[Any, Callable[[], Any]]] = field(default_factory=list)

    def on(
        self,
        trigger: Callable[..., Any],
        fn: Callable[..., Any],
        inputs: list[Any],
        outputs: Any,
        **kwargs: Any,
    ) -> Any:
        """Wire ``trigger`` (e.g. ``button.click``) to ``fn`` behind the sign-in check.

        Args:
            trigger: The event listener to call.
            fn: The handler; it receives the sign-in state first, then ``inputs``.
            inputs: The handler's other inputs.
            outputs: As for any Gradio event.
            **kwargs: Passed on to the event listener.
        """
        return trigger(guarded(fn), [self.allowed, *inputs], outputs, **kwargs)

    def after_sign_in(self, component: Any, fill: Callable[[], Any]) -> None:
        """Update ``component`` with ``fill()`` once a facilitator signs in."""
        self.hooks.append((component, fill))

    def wire(self, ctx: AppContext) -> None:
        """Connect every form's Sign in button (call once, after all admin tabs exist)."""

        def result(ok: bool, message: str) -> list[Any]:
            return [
                ok,
                message,
                *[gr.update(visible=not ok) for _ in self.forms],
                *[gr.update(visible=ok) for _ in self.contents],
                "",
                *[fill() if ok else gr.skip() for _, fill in self.hooks],
            ]

        def on_sign_in(name: str | None, secret: str | None, request: gr.Request) -> list[Any]:
            user = (name or "").strip()
            client = client_of(request)
            keys = [f"client:{client}", f"account:{FACILITATOR_ACCOUNT}"]
            wait = ctx.limiter.wait_s(keys)
            if wait > 0:
                refused("facilitator", user, client, f"too many failures, {wait:.0f} s to wait")
                return result(False, f"✖ {wait_message(wait)}")
            if ctx.gate.locked:
                refused("facilitator", user, client, "no login is configured on this server")
                return result(False, LOCKED)
            if not ctx.gate.check(user, secret or ""):
                ctx.limiter.failed(keys)
                refused("facilitator", user, client, "wrong user name or password")
                return result(False, WRONG_LOGIN)
            ctx.limiter.succeeded(keys[1])
            return result(True, "")

        setattr(on_sign_in, ACCESS, "sign-in")
        for button, user, password, message in self.fields:
            button.click(
                on_sign_in,
                [user, password],
                [
                    self.allowed,
                    message,
                    *self.forms,
                    *self.contents,
                    password,
                    *[c for c, _ in self.hooks],
                ],
                api_visibility="private",
            )


def _ids_under(block: Any) -> set[int]:
    ids = {block._id}
    for child in getattr(block, "children", []) or []:
        ids |= _ids_under(child)
    return ids


def check_gated(demo: gr.Blocks, gate: Gate) -> None:
    """Refuse an app where an event touching the admin tabs skips the sign-in check.

    Raises:
        RuntimeError: Naming each handler that triggers from, reads or writes a component of
            a facilitator tab without going through :meth:`Gate.on`.
    """
    admin = set().union(*(_ids_under(column) for column in gate.contents))
    unchecked = []
    for block_fn in demo.fns.values():
        touched = {target for target, _ in block_fn.targets}
        touched |= {b._id for b in block_fn.inputs} | {b._id for b in block_fn.outputs}
        if touched & admin and getattr(block_fn.fn, ACCESS, None) is None:
            unchecked.append(block_fn.name)
    if unchecked:
        raise RuntimeError(
            "these handlers reach the facilitator tabs without the sign-in check; wire them "
            f"with Gate.on: {', '.join(map(str, unchecked))}"
        )


def login_form(ctx: AppContext, gate: Gate, what: str) -> gr.Column:
    """A sign-in form (hidden when no admin login is configured); returns the column it guards."""
    with gr.Column(visible=ctx.gate.required) as form:
        gr.Markdown(f"**{what} is for facilitators.** Sign in to continue.")
        with gr.Row():
            user = gr.Textbox(label="User name", scale=1)
            password = gr.Textbox(label="Password", type="password", scale=1)
        sign_in = gr.Button("Sign in", variant="primary")
        message = gr.Markdown()
    content = gr.Column(visible=not ctx.gate.required)
    gate.forms.append(form)
    gate.contents.append(content)
    gate.fields.append((sign_in, user, password, message))
    return content
