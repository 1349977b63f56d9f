/**
 * English strings. This dictionary defines the message keys: every other locale must have
 * exactly these keys (enforced by the `Dictionary` type). `{name}` marks a parameter.
 */
export const en = {
  'app.name': 'Convene',
  'app.tagline': 'Video meetings on your own server. Share a link, talk face to face.',
  'app.notFound': 'This page does not exist.',
  'app.goHome': 'Go to the home page',

  'lang.label': 'Language',

  'home.newMeeting': 'New meeting',
  'home.or': 'or join a meeting by its name',
  'home.roomLabel': 'Room name',
  'home.roomPlaceholder': 'e.g. brave-otter-42',
  'home.join': 'Join room',
  'home.errorEmpty': 'Type the name of the room you want to join.',
  'home.errorInvalid':
    'Room names use only lowercase letters, digits, “-” and “_”, start and end with a letter or digit, and are at most 64 characters long.',

  'room.invalidTitle': 'This meeting link is not valid',
  'room.invalidBody':
    'Room names use only lowercase letters, digits, “-” and “_”, start and end with a letter or digit, and are at most 64 characters long.',
  'room.documentTitle': '{room} · Convene',
  'room.people': 'People in the meeting: {count}',
  'room.joining': 'Joining the meeting…',
  'room.reconnecting': 'Connection to the server lost — reconnecting…',

  'prejoin.title': 'Ready to join?',
  'prejoin.roomIs': 'Meeting: {room}',
  'prejoin.preview': 'Your camera preview',
  'prejoin.startingCamera': 'Starting your camera…',
  'prejoin.nameLabel': 'Your name',
  'prejoin.namePlaceholder': 'How others will see you',
  'prejoin.nameRequired': 'Type your name so the others know who you are.',
  'prejoin.join': 'Join',
  'prejoin.joining': 'Joining…',

  'devices.camera': 'Camera',
  'devices.microphone': 'Microphone',
  'devices.noCamera': 'No camera found',
  'devices.noMicrophone': 'No microphone found',
  'devices.cameraN': 'Camera {n}',
  'devices.microphoneN': 'Microphone {n}',

  'media.camera.denied': 'Camera blocked — you can still join and see others.',
  'media.camera.not-found': 'No camera found — you can still join and see others.',
  'media.camera.in-use': 'Your camera is busy in another app — you can still join and see others.',
  'media.camera.insecure-context': 'The camera needs a secure (https) page — you can still join and see others.',
  'media.camera.unknown': 'Your camera could not start — you can still join and see others.',
  'media.microphone.denied': 'Microphone blocked — you can still join and listen.',
  'media.microphone.not-found': 'No microphone found — you can still join and listen.',
  'media.microphone.in-use': 'Your microphone is busy in another app — you can still join and listen.',
  'media.microphone.insecure-context': 'The microphone needs a secure (https) page — you can still join and listen.',
  'media.microphone.unknown': 'Your microphone could not start — you can still join and listen.',

  'tile.you': 'You',
  'tile.micMuted': 'Microphone muted',
  'tile.cameraOff': 'Camera off',
  'tile.reconnecting': 'Reconnecting…',

  'controls.label': 'Meeting controls',
  'controls.mute': 'Mute',
  'controls.unmute': 'Unmute',
  'controls.stopVideo': 'Stop video',
  'controls.startVideo': 'Start video',
  'controls.copyLink': 'Copy link',
  'controls.linkCopied': 'Link copied',
  'controls.copyFailed': 'Could not copy. The meeting link is {url}',
  'controls.settings': 'Settings',
  'controls.settingsTitle': 'Devices',
  'controls.leave': 'Leave',
  'controls.noMicrophone': 'No microphone available',
  'controls.cameraFailed': 'Your camera could not start.',
  'controls.switchFailed': 'Could not switch to that device.',

  'toast.joined': '{name} joined',
  'toast.left': '{name} left',

  'left.title': 'You left the meeting',
  'left.rejoin': 'Rejoin',
  'left.home': 'Home',

  'error.joinTitle': 'Could not join the meeting',
  'error.lostTitle': 'The meeting was interrupted',
  'error.retry': 'Try again',
  'error.reload': 'Reload the page',
  'error.home': 'Home',
  'error.room_full': 'This meeting is full.',
  'error.invalid_room_name': 'This room name is not valid.',
  'error.server_unreachable': 'Can’t reach the meeting server. Check your connection and try again.',
  'error.connection_lost': 'The connection to the meeting was lost.',
  'error.shutting_down': 'The meeting server is restarting. Try again in a moment.',
  'error.unsupported_version': 'This page is out of date. Reload it to join.',
  'error.join_timeout': 'The meeting server took too long to answer.',
  'error.rate_limited': 'Too many requests. Wait a moment and try again.',
  'error.media': 'Your camera and microphone could not start.',
  'error.generic': 'Something went wrong.',
} as const satisfies Record<string, string>;

export type MessageKey = keyof typeof en;
/** A complete translation: exactly the English keys, each a string. */
export type Dictionary = { readonly [K in MessageKey]: string };
